import { Injectable } from '@nestjs/common';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { AppError } from '../../common/errors/app-error';
import { MetricsService } from '../../common/observability/metrics.service';

function sameSecret(a: string, b: string): boolean {
  // Hash both sides so the comparison is constant-time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

@Injectable()
export class MetricsAccess {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async render(authorization: string | undefined): Promise<string> {
    const token = this.config.metricsToken;
    if (token) {
      const presented = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
      if (!presented || !sameSecret(presented, token)) {
        throw new AppError(401, 'AUTHENTICATION_REQUIRED', 'Metrics require Authorization: Bearer <METRICS_TOKEN>.', null, { 'WWW-Authenticate': 'Bearer' });
      }
    }
    return this.metrics.registry.metrics();
  }
}
