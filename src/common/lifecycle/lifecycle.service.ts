import { Injectable } from '@nestjs/common';

/** Readiness and in-flight bookkeeping for graceful shutdown. */
@Injectable()
export class LifecycleService {
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  get shuttingDown(): boolean {
    return this.draining;
  }

  get activeRequests(): number {
    return this.inFlight;
  }

  beginShutdown(): void {
    this.draining = true;
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; true when drained. */
  async waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return drained;
  }
}
