import { ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Principal } from '../auth/principal';

/** SPEC §1 rate-limit classes. `default` applies to every limited route that declares no other class. */
export type RateLimitClassName = 'auth' | 'agent' | 'default';

export const RATE_LIMIT_CLASS = 'countersign:rate_limit_class';

/**
 * Puts a route (or controller) in the `auth` class (keyed by client IP) or the `agent` class (keyed by agent id).
 * Probes and meta routes opt out with `@SkipThrottle()` from `@nestjs/throttler`.
 */
export const RateLimitClass = (name: Exclude<RateLimitClassName, 'default'>) => SetMetadata(RATE_LIMIT_CLASS, name);

/** The class a request counts against: the declared one; otherwise `agent` for agent credentials (SPEC §1), else `default`. */
export function rateLimitClassOf(reflector: Reflector, context: ExecutionContext): RateLimitClassName {
  const declared = reflector.getAllAndOverride<RateLimitClassName | undefined>(RATE_LIMIT_CLASS, [context.getHandler(), context.getClass()]);
  if (declared) return declared;
  const principal = context.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  return principal?.type === 'agent' ? 'agent' : 'default';
}
