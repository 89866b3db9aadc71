import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthenticationRequiredError, InvalidCredentialsError, PermissionDeniedError } from '../../common/auth/auth.errors';
import { accessTokenKeys } from '../../common/auth/jwt.strategy';
import { holds } from '../../common/auth/principal';
import { AccessTokenClaims, PRINCIPAL_RESOLVER, PrincipalResolver } from '../../common/auth/principal-resolver';
import { safeEqual } from '../../common/crypto/tokens';
import { AppError } from '../../common/errors/app-error';
import { MetricsService } from '../../common/observability/metrics.service';
import { AppConfig } from '../../config/app-config';

/**
 * `/metrics` is open unless METRICS_TOKEN is set; then it needs `Authorization: Bearer <METRICS_TOKEN>` (scrapers) or
 * a user or API key holding `metrics.read` (SPEC §3).
 */
@Injectable()
export class MetricsAccess {
  /** Verifies access tokens with the prepared keys (a `KeyObject` per key id, as the passport strategy does). */
  private readonly jwt: JwtService;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
  ) {
    const keyFor = accessTokenKeys(config);
    this.jwt = new JwtService({ secretOrKeyProvider: (_type, token) => keyFor(typeof token === 'string' ? token : '') });
  }

  async render(authorization: string | undefined): Promise<string> {
    const token = this.config.metricsToken;
    if (token) {
      const presented = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!presented) throw new AuthenticationRequiredError('Metrics require Authorization: Bearer <METRICS_TOKEN>, or a user or API key with metrics.read.');
      if (!safeEqual(presented, token)) {
        const principal = presented.startsWith('csk_') ? await this.resolver.fromApiKey(presented) : await this.resolver.fromAccessToken(await this.verify(presented));
        if (!holds(principal, 'metrics.read')) throw new PermissionDeniedError('metrics.read');
      }
    }
    return this.metrics.registry.metrics();
  }

  private async verify(jwt: string): Promise<AccessTokenClaims> {
    try {
      return await this.jwt.verifyAsync<AccessTokenClaims>(jwt, {
        algorithms: [this.config.jwt.algorithm],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      });
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new InvalidCredentialsError('The metrics token or access token is invalid.');
    }
  }
}
