import { Client, ClientConfig } from 'pg';

/** The message of pg's client-side `query_timeout` error. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/** Time the server's own `statement_timeout` gets to cancel a statement before the client gives up on the connection. */
export const QUERY_TIMEOUT_GRACE_MS = 1000;

type Callback = (error: Error | null, result?: unknown) => void;

/**
 * pg's Client for the app's pool, with a client-side bound on every statement that is safe in a pool.
 *
 * PostgreSQL's `statement_timeout` is enforced by the server: a server that is frozen (SIGSTOP, a VM paused, a network
 * path that drops packets without a reset) never cancels anything, and a request would wait as long as the outage.
 * pg's own `query_timeout` answers the caller in time but leaves the statement on the connection, which goes back to
 * the pool: once the server runs again it executes the statement, possibly inside a transaction the caller has given
 * up on, and the next user of the connection inherits that transaction (its BEGIN is ignored, its COMMIT commits the
 * stranger's write). So when pg reports a read timeout, this client destroys its socket: the pool discards the
 * connection, and whatever the server finds in it afterwards is rolled back when it sees the connection closed.
 */
export class BoundedClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    // The pool and the query runner listen while they hold the client; a destroyed socket must never crash the
    // process in between (every pending query gets the error anyway).
    this.on('error', () => undefined);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has a dozen overloads; they all pass through
  override query(...args: any[]): any {
    const last = args.length > 0 ? (args[args.length - 1] as unknown) : undefined;
    if (typeof last === 'function') {
      const callback = last as Callback;
      args[args.length - 1] = (error: Error | null, result?: unknown) => {
        this.discardOnReadTimeout(error);
        callback(error, result);
      };
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) result.catch((error: unknown) => this.discardOnReadTimeout(error));
    return result;
  }

  private discardOnReadTimeout(error: unknown): void {
    if (!(error instanceof Error) || error.message !== QUERY_READ_TIMEOUT) return;
    (this as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream?.destroy(error);
  }
}
