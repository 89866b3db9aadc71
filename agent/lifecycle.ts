import { Logger } from './logger';

/**
 * Shutdown in two steps. `stopping` aborts on the first SIGTERM/SIGINT: no more claims (the in-flight long-poll is
 * aborted). `abandon` aborts `graceMs` later, or on a second signal: the current job is given up (its lease runs out
 * and the server queues it again) so the process still exits promptly.
 */
export class Lifecycle {
  private readonly stopController = new AbortController();
  private readonly abandonController = new AbortController();
  private failure: string | null = null;

  constructor(
    private readonly log: Logger,
    private readonly graceMs = 3000,
  ) {}

  get stopping(): AbortSignal {
    return this.stopController.signal;
  }

  get abandon(): AbortSignal {
    return this.abandonController.signal;
  }

  requestStop(reason: string): void {
    if (this.stopController.signal.aborted) {
      if (!this.abandonController.signal.aborted) {
        this.log.warn('second stop request: abandoning the current job', { reason });
        this.abandonController.abort();
      }
      return;
    }
    this.log.info('stopping', { reason, grace_ms: this.graceMs });
    this.stopController.abort();
    setTimeout(() => this.abandonController.abort(), this.graceMs).unref();
  }

  /** Stop at once after an unrecoverable error (e.g. the agent was revoked); `failed` makes the exit non-zero. */
  fail(reason: string, fields: Record<string, unknown> = {}): void {
    if (!this.failure) this.log.error(reason, fields);
    this.failure = this.failure ?? reason;
    this.stopController.abort();
    this.abandonController.abort();
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** SIGTERM and SIGINT request a stop. */
  installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => this.requestStop(signal));
  }
}
