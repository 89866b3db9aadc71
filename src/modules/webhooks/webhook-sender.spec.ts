import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { guardedLookup, postWebhook } from './webhook-sender';

describe('webhook sender', () => {
  let server: Server;
  let hits = 0;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(200).end('x'.repeat(100_000));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('the connect-time lookup refuses a name that resolves to a forbidden address (DNS rebinding)', async () => {
    const err = await new Promise<Error | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(err?.message).toMatch(/forbidden address/);
  });

  it('without the override, nothing reaches a loopback receiver, by name or by address', async () => {
    const byName = await postWebhook(`https://localhost:${port}/`, '{}', {}, false);
    const byAddress = await postWebhook(`https://127.0.0.1:${port}/`, '{}', {}, false);
    const plain = await postWebhook(`http://127.0.0.1:${port}/`, '{}', {}, false);
    expect([byName.ok, byAddress.ok, plain.ok]).toEqual([false, false, false]);
    expect(byName.error).toMatch(/forbidden address/);
    expect(hits).toBe(0);
  });

  it('with the override it posts, and does not wait on a large response body', async () => {
    const r = await postWebhook(`http://localhost:${port}/`, '{}', {}, true);
    expect(r).toEqual({ ok: true, statusCode: 200, error: null });
    expect(hits).toBe(1);
  });
});
