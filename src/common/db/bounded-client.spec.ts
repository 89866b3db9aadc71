import * as net from 'node:net';
import { Client } from 'pg';
import { BoundedClient, QUERY_READ_TIMEOUT } from './bounded-client';

/**
 * A PostgreSQL that completes the startup (AuthenticationOk, ReadyForQuery) and then never answers a statement, like a
 * server frozen by SIGSTOP: the kernel keeps the connection open, nothing cancels anything. Records whether each
 * connection was closed by the client.
 */
async function frozenServer(): Promise<{ port: number; closed: boolean[]; stop(): Promise<void> }> {
  const closed: boolean[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = closed.push(false) - 1;
    sockets.add(socket);
    let started = false;
    socket.on('data', () => {
      if (started) return; // a statement: never answered
      started = true;
      socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0])); // R: AuthenticationOk
      socket.write(Buffer.from([0x5a, 0, 0, 0, 5, 0x49])); // Z: ReadyForQuery, idle
    });
    socket.on('close', () => (closed[index] = true));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    closed,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('BoundedClient', () => {
  let server: Awaited<ReturnType<typeof frozenServer>>;
  beforeEach(async () => (server = await frozenServer()));
  afterEach(() => server.stop());

  const config = () => ({ host: '127.0.0.1', port: server.port, user: 'u', database: 'd', query_timeout: 150 });

  it('gives up on a statement a frozen server never answers, and closes the connection so that it is never reused', async () => {
    const client = new BoundedClient(config());
    await client.connect();
    await expect(client.query('SELECT 1')).rejects.toThrow(QUERY_READ_TIMEOUT);
    await settle();
    expect(server.closed).toEqual([true]);
    // Anything sent afterwards fails at once as a connection error (a ROLLBACK of the caller's transaction, say).
    await expect(client.query('ROLLBACK')).rejects.toThrow(/not queryable|Connection terminated/);
  });

  it('does so for callback-style queries too (the pool uses them)', async () => {
    const client = new BoundedClient(config());
    await client.connect();
    const error = await new Promise<Error | null>((resolve) => client.query('SELECT 1', [], (e: Error | null) => resolve(e)));
    expect(error?.message).toBe(QUERY_READ_TIMEOUT);
    await settle();
    expect(server.closed).toEqual([true]);
  });

  it("whereas pg's own Client keeps the connection, the statement still on it (what the pool would hand to the next caller)", async () => {
    const client = new Client(config());
    await client.connect();
    await expect(client.query('SELECT 1')).rejects.toThrow(QUERY_READ_TIMEOUT);
    await settle();
    expect(server.closed).toEqual([false]);
    await client.end().catch(() => undefined);
    client.connection.stream.destroy();
  });
});
