import { Controller, Get, HttpCode } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/auth/public.decorator';
import { ApiHealthDto, LivenessDto, ReadinessDto, VersionDto } from './dto/health.dto';
import { HealthService } from './health.service';

/** Probes are never rate limited (SPEC §1); `/api/v1/health` and `/api/v1/version` are (default class, keyed by IP). */
@ApiTags('Health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Liveness: the process runs (never touches the database). */
  @ApiOperation({ summary: 'Liveness probe', operationId: 'Probes_healthz' })
  @Get('healthz')
  @SkipThrottle()
  @HttpCode(200)
  healthz(): LivenessDto {
    return this.health.liveness();
  }

  /** Liveness for Kubernetes; same as `/healthz`. */
  @ApiOperation({ summary: 'Liveness probe (Kubernetes)', operationId: 'Probes_livez' })
  @Get('livez')
  @SkipThrottle()
  livez(): LivenessDto {
    return this.health.liveness();
  }

  /** Readiness: database reachable, every migration applied, Redis reachable when configured, not shutting down. */
  @ApiOperation({ summary: 'Readiness probe', operationId: 'Probes_readyz' })
  @Get('readyz')
  @SkipThrottle()
  @ApiServiceUnavailableResponse({ description: 'A check failed or shutdown has begun.', type: ReadinessDto })
  readyz(): Promise<ReadinessDto> {
    return this.health.readiness();
  }

  /** API health with the database connection state and the version. */
  @ApiOperation({ summary: 'API health', operationId: 'Service_health' })
  @Get('api/v1/health')
  @ApiServiceUnavailableResponse({ description: 'The database is unreachable.', type: ApiHealthDto })
  apiHealth(): Promise<ApiHealthDto> {
    return this.health.apiHealth();
  }

  /** Version, commit and build date of this instance. */
  @ApiOperation({ summary: 'Version and build', operationId: 'Service_version' })
  @Get('api/v1/version')
  @ApiOkResponse({ type: VersionDto })
  version(): VersionDto {
    return this.health.version();
  }
}
