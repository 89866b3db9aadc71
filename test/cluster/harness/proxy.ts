import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { HOST } from './ports';

export interface Backend {
  name: string;
  port: number;
}

/** GET and HEAD are retried on another replica; anything else may have been applied, so the client is told (502). */
const RETRYABLE = new Set(['GET', 'HEAD']);
/** How long a replica that refused a connection is skipped before it is tried again. */
const DOWN_MS = 500;

export const PROXY_ERROR_HEADER = 'x-cluster-proxy-error';
export const REPLICA_HEADER = 'x-cluster-replica';

/**
 * A loopback round-robin HTTP proxy in front of the replicas, like the load balancer of a deployment: keep-alive
 * connections to each replica; a replica that refuses, resets or otherwise fails before answering is marked down for a moment; idempotent GET/HEAD are
 * retried on the next live replica, other methods answer 502 (the client cannot know whether it was applied). Each
 * answer names the replica in `X-Cluster-Replica`; a request with that header is sent to that replica only.
 */
export class RoundRobinProxy {
  private server?: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 1000 });
  private readonly downUntil = new Map<string, number>();
  private next = 0;
  readonly stats = { forwarded: 0, retried: 0, badGateway: 0, byReplica: {} as Record<string, number> };
  port = 0;

  constructor(private readonly backends: Backend[]) {}

  async start(port = 0): Promise<number> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, HOST, resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Forget what is known about a replica (after a restart). */
  markUp(name: string): void {
    this.downUntil.delete(name);
  }

  private pick(tried: Set<string>, pinned?: string): Backend | undefined {
    if (pinned) return tried.has(pinned) ? undefined : this.backends.find((b) => b.name === pinned);
    const now = Date.now();
    const candidates = this.backends.filter((b) => !tried.has(b.name));
    const live = candidates.filter((b) => (this.downUntil.get(b.name) ?? 0) <= now);
    const pool = live.length > 0 ? live : candidates;
    if (pool.length === 0) return undefined;
    // Round robin over the whole list, skipping the ones not in the pool.
    for (let i = 0; i < this.backends.length; i++) {
      const b = this.backends[(this.next + i) % this.backends.length];
      if (pool.includes(b)) {
        this.next = (this.next + i + 1) % this.backends.length;
        return b;
      }
    }
    return pool[0];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let clientGone = false;
    res.once('close', () => (clientGone = !res.writableFinished));
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const pinnedHeader = req.headers[REPLICA_HEADER];
    const pinned = typeof pinnedHeader === 'string' ? pinnedHeader : undefined;
    const tried = new Set<string>();
    let lastError = 'no replica';
    for (;;) {
      const backend = this.pick(tried, pinned);
      if (!backend || clientGone) break;
      tried.add(backend.name);
      const outcome = await this.forward(req, res, body, backend, () => clientGone);
      if (outcome === 'done') return;
      lastError = outcome;
      this.downUntil.set(backend.name, Date.now() + DOWN_MS);
      if (!RETRYABLE.has(req.method ?? '')) break;
      this.stats.retried++;
    }
    if (clientGone || res.headersSent) return void res.destroy();
    this.stats.badGateway++;
    const envelope = JSON.stringify({ error: { code: 'BAD_GATEWAY', message: `cluster proxy: ${lastError}`, details: null, request_id: null } });
    res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', [PROXY_ERROR_HEADER]: '1', 'content-length': Buffer.byteLength(envelope) });
    res.end(envelope);
  }

  /** 'done' once an answer (or a cut after the headers) went to the client; otherwise why the replica failed. */
  private forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, backend: Backend, clientGone: () => boolean): Promise<'done' | string> {
    return new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = { ...req.headers, host: `${HOST}:${backend.port}`, 'content-length': String(body.length) };
      delete headers[REPLICA_HEADER];
      delete headers['transfer-encoding'];
      const forwardedFor = req.headers['x-forwarded-for'];
      headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${req.socket.remoteAddress ?? HOST}` : (req.socket.remoteAddress ?? HOST);
      const upstream = http.request({ host: HOST, port: backend.port, method: req.method, path: req.url, headers, agent: this.agent });
      let answered = false;
      // A client that goes away (an agent killed during a long poll) cancels the upstream request too.
      const onClientClose = () => {
        if (clientGone()) upstream.destroy();
      };
      res.once('close', onClientClose);
      upstream.once('response', (up) => {
        answered = true;
        this.stats.forwarded++;
        this.stats.byReplica[backend.name] = (this.stats.byReplica[backend.name] ?? 0) + 1;
        const out: http.OutgoingHttpHeaders = { ...up.headers, [REPLICA_HEADER]: backend.name };
        res.writeHead(up.statusCode ?? 502, out);
        up.pipe(res);
        up.once('error', () => res.destroy());
        up.once('end', () => resolve('done'));
        up.once('close', () => {
          if (!res.writableFinished) res.destroy();
          resolve('done');
        });
      });
      upstream.once('error', (error: NodeJS.ErrnoException) => {
        res.removeListener('close', onClientClose);
        if (answered) return resolve('done');
        const code = error.code ?? error.message;
        resolve(`${backend.name}: ${code}`);
      });
      upstream.end(body);
    });
  }
}
