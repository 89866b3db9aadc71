import { ApiError, isTransient } from './api-client';
import { Backoff, sleep } from './backoff';
import { Logger } from './logger';

export interface RetryOptions {
  /** Stop retrying (and rethrow the last error) once this aborts. */
  signal?: AbortSignal;
  /** Give up after this long (ms) since the first attempt. */
  budgetMs?: number;
  log?: Logger;
  /** What is being retried, for the log. */
  what: string;
}

/** Delay before retrying `err`: the server's `Retry-After` when it sent one, else the backoff's next step. */
export function retryDelay(err: unknown, backoff: Backoff): number {
  const step = backoff.next();
  return err instanceof ApiError && err.retryAfterMs !== null ? err.retryAfterMs : step;
}

/** Runs `fn`, retrying network errors, 5xx and 429 with exponential backoff (1 s → 30 s, jitter). */
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff();
  const started = Date.now();
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || options.signal?.aborted) throw err;
      const delay = retryDelay(err, backoff);
      if (options.budgetMs !== undefined && Date.now() - started + delay > options.budgetMs) throw err;
      options.log?.warn(`${options.what} failed; retrying`, { error: (err as Error).message, retry_in_ms: delay });
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
