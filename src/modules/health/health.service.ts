import { Inject, Injectable } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorFunction, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { RawHttpResponse } from '../../common/errors/app-error';
import { ExclusiveRunner } from '../../common/db/exclusive-runner';
import { LifecycleService } from '../../common/lifecycle/lifecycle.service';
import { REDIS, RedisClient } from '../../common/redis/redis.module';
import { ApiHealthDto, LivenessDto, ReadinessChecksDto, ReadinessDto, VersionDto } from './dto/health.dto';
import { BuildInfo, resolveBuildInfo } from './build-info';

const CHECK_TIMEOUT_MS = 1500;

@Injectable()
export class HealthService {
  private readonly build: BuildInfo;
  /** Once every migration is applied it stays so for this build; later checks skip the query. */
  private migrationsUp = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly lifecycle: LifecycleService,
    private readonly runner: ExclusiveRunner,
    config: AppConfig,
  ) {
    this.build = resolveBuildInfo(config.build);
  }

  liveness(): LivenessDto {
    return { status: 'ok' };
  }

  /** Terminus runs the indicators; the result is mapped onto the SPEC's `{status, checks}` shape. */
  async readiness(): Promise<ReadinessDto> {
    let details: Record<string, { status: string }> = {};
    try {
      details = (await this.health.check(this.indicatorList())).details;
    } catch (error) {
      details = (error as { response?: { details?: typeof details } }).response?.details ?? {};
    }
    const checks: ReadinessChecksDto = {
      database: details.database?.status === 'up' ? 'up' : 'down',
      migrations: details.migrations?.status === 'up' ? 'up' : 'down',
      redis: this.redis ? (details.redis?.status === 'up' ? 'up' : 'down') : 'disabled',
    };
    if (this.lifecycle.shuttingDown) checks.lifecycle = 'down';
    const ok = Object.values(checks).every((v) => v === 'up' || v === 'disabled');
    if (!ok) throw new RawHttpResponse(503, { status: 'unavailable', checks });
    return { status: 'ok', checks };
  }

  async apiHealth(): Promise<ApiHealthDto> {
    const result = await this.typeorm
      .pingCheck('database', { connection: this.dataSource, timeout: CHECK_TIMEOUT_MS })
      .catch(() => ({ database: { status: 'down' } }));
    if (result.database?.status !== 'up') {
      throw new RawHttpResponse(503, { status: 'unavailable', db: 'disconnected', version: this.build.version, background: this.runner.states() });
    }
    return { status: 'ok', db: 'connected', version: this.build.version, background: this.runner.states() };
  }

  version(): VersionDto {
    return { ...this.build, api_version: '1' };
  }

  private indicatorList(): HealthIndicatorFunction[] {
    const list: HealthIndicatorFunction[] = [
      () => this.typeorm.pingCheck('database', { connection: this.dataSource, timeout: CHECK_TIMEOUT_MS }),
      () => this.migrationsCheck(),
    ];
    const redis = this.redis;
    if (redis) list.push(() => this.redisCheck(redis));
    return list;
  }

  private async migrationsCheck() {
    const indicator = this.indicators.check('migrations');
    if (this.migrationsUp) return indicator.up();
    try {
      const pending = await this.dataSource.showMigrations();
      this.migrationsUp = !pending;
      return pending ? indicator.down({ message: 'migrations pending' }) : indicator.up();
    } catch {
      return indicator.down({ message: 'cannot read migrations' });
    }
  }

  private async redisCheck(redis: NonNullable<RedisClient>) {
    const indicator = this.indicators.check('redis');
    try {
      await Promise.race([redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS))]);
      return indicator.up();
    } catch {
      return indicator.down();
    }
  }
}
