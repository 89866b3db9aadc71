import { OnModuleDestroy } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  /** When the counting window ends (ms since the epoch). */
  expiresAt: number;
  /** When a block ends, 0 when not blocked. */
  blockedUntil: number;
}

/** How often windows that ended are forgotten. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The limiter's counters in process memory (no REDIS_URL): a fixed window per key with the same rules as the Redis
 * storage's script (count hits, start the window at the first hit, block for `blockDuration` once over the limit), so one replica and a Redis-backed fleet limit alike. O(1) per request: the library's own
 * in-memory storage keeps one timestamp per hit and filters the list on every request, which at a thousand requests a
 * second from one principal is a 60,000-entry array walked per request.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly windows = new Map<string, Window>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    const now = this.now();
    const id = `${key}:${throttlerName}`;
    let w = this.windows.get(id);
    if (!w) {
      w = { hits: 0, expiresAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, w);
    } else if (w.expiresAt <= now) {
      w.hits = 0;
      w.expiresAt = now + ttl;
    }
    w.hits++;
    if (w.blockedUntil > now) return Promise.resolve(this.record(w, now, true));
    if (w.hits > limit) {
      w.blockedUntil = now + blockDuration;
      return Promise.resolve(this.record(w, now, true));
    }
    return Promise.resolve(this.record(w, now, false));
  }

  private record(w: Window, now: number, isBlocked: boolean) {
    return {
      totalHits: w.hits,
      timeToExpire: Math.ceil((w.expiresAt - now) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil((w.blockedUntil - now) / 1000) : 0,
    };
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, w] of this.windows) if (w.expiresAt <= now && w.blockedUntil <= now) this.windows.delete(id);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}
