import { ExecutionContext, Module } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerModule, ThrottlerModuleOptions } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { REDIS, RedisClient } from '../redis/redis.module';
import { MemoryThrottlerStorage } from './rate-limit-memory.storage';
import { rateLimitClassOf } from './rate-limit.decorator';

/** SPEC §1: every limit is per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * `@nestjs/throttler` configured from `AppConfig`: one throttler whose limit depends on the route's class; counters in
 * Redis (shared by every replica) when `REDIS_URL` is set, in process memory otherwise. The guard is `RateLimitGuard`,
 * registered after the auth guard in `AuthModule` so that it can key by principal.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, REDIS, Reflector],
      useFactory: (config: AppConfig, redis: RedisClient, reflector: Reflector): ThrottlerModuleOptions => ({
        throttlers: [
          {
            name: 'default',
            ttl: RATE_LIMIT_WINDOW_MS,
            limit: (context: ExecutionContext) => config.rateLimits[rateLimitClassOf(reflector, context)],
          },
        ],
        // The shared client is not ours to close: the storage only disconnects clients it created itself.
        storage: redis ? new ThrottlerStorageRedisService(redis) : new MemoryThrottlerStorage(),
      }),
    }),
  ],
})
export class RateLimitModule {}
