import { Controller, Get, Header, Headers } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../../common/auth/public.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { PROMETHEUS_CONTENT_TYPE } from '../../common/observability/metrics.service';
import { MetricsAccess } from './metrics-access';

@ApiTags('Health')
@Public()
@SkipThrottle()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly access: MetricsAccess) {}

  /** Prometheus metrics. When `METRICS_TOKEN` is set: `Authorization: Bearer <METRICS_TOKEN>`, or a user or API key with `metrics.read`. */
  @ApiOperation({ summary: 'Prometheus metrics', operationId: 'Service_metrics' })
  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @ApiBearerAuth('bearer')
  @ApiProduces(PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format.', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'METRICS_TOKEN is set and neither it nor valid credentials were presented.' })
  @ApiForbiddenResponse({ type: ErrorEnvelope, description: 'Valid credentials without metrics.read (PERMISSION_DENIED).' })
  metrics(@Headers('authorization') authorization: string | undefined): Promise<string> {
    return this.access.render(authorization);
  }
}
