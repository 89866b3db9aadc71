import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerRequest,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { Principal } from '../auth/principal';
import { RateLimitExceededError } from './http.errors';
import { rateLimitClassOf } from './rate-limit.decorator';

/**
 * Counters live under `rl:<database>:…`: replicas of one deployment (one database) share them, while deployments
 * (or test files) that share a Redis but not a database never spend each other's budget.
 */
export function counterNamespace(databaseUrl: string | undefined): string {
  if (!databaseUrl) return 'default';
  try {
    return decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || 'default';
  } catch {
    return 'default';
  }
}

/**
 * SPEC §1 rate limits on top of `@nestjs/throttler`. Runs after the auth guard (registration order in `AuthModule`),
 * so `req.principal` is known. Keys: `auth` → client IP (`req.ip`, which honours TRUST_PROXY); `agent` → agent id;
 * `default` → principal type and id, or the client IP on public routes. Every limited response carries
 * `X-RateLimit-Limit/-Remaining/-Reset` (Unix seconds); over the limit, 429 `RATE_LIMIT_EXCEEDED` with `Retry-After`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly namespace: string;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storageService: ThrottlerStorage,
    reflector: Reflector,
    config: AppConfig,
  ) {
    super(options, storageService, reflector);
    this.namespace = counterNamespace(config.databaseUrl);
  }

  /** The library calls this with `(req, context)`. */
  protected override async getTracker(req: Record<string, unknown>, context?: ExecutionContext): Promise<string> {
    const ip = `ip:${await super.getTracker(req)}`;
    const principal = req.principal as Principal | undefined;
    if (!context || !principal) return ip;
    const rateClass = rateLimitClassOf(this.reflector, context);
    if (rateClass === 'auth') return ip;
    return `${principal.type}:${principal.id}`;
  }

  /** One budget per class and caller across all the class's routes (the library's default is per handler). */
  protected override generateKey(context: ExecutionContext, tracker: string): string {
    return `rl:${this.namespace}:${rateLimitClassOf(this.reflector, context)}:${tracker}`;
  }

  /** The library's flow (track, key, increment), with our headers and our error instead of `ThrottlerException`. */
  protected override async handleRequest({ context, limit, ttl, throttler, blockDuration, getTracker, generateKey }: ThrottlerRequest): Promise<boolean> {
    const { req, res } = this.getRequestResponse(context);
    const name = throttler.name ?? 'default';
    const key = generateKey(context, await getTracker(req, context), name);
    const { totalHits, timeToExpire, isBlocked, timeToBlockExpire } = await this.storageService.increment(key, ttl, limit, blockDuration, name);
    const now = Math.ceil(Date.now() / 1000);

    if (isBlocked) {
      const retryAfter = Math.max(1, timeToBlockExpire);
      throw new RateLimitExceededError(`Too many requests (${limit} per minute); retry in ${retryAfter} s.`, {
        'Retry-After': String(retryAfter),
        'X-RateLimit-Limit': String(limit),
        'X-RateLimit-Remaining': '0',
        // While blocked, the budget comes back when the block ends, which may be after the counting window's end.
        'X-RateLimit-Reset': String(now + Math.max(retryAfter, timeToExpire)),
      });
    }
    this.setResponseHeader(res, 'X-RateLimit-Limit', limit);
    this.setResponseHeader(res, 'X-RateLimit-Remaining', Math.max(0, limit - totalHits));
    this.setResponseHeader(res, 'X-RateLimit-Reset', now + timeToExpire);
    return true;
  }
}
