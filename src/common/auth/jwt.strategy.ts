import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../../config/app-config';
import { Principal } from './principal';
import { AccessTokenClaims, PRINCIPAL_RESOLVER, PrincipalResolver } from './principal-resolver';

export const JWT_ALGORITHM = 'HS256';

/** passport-jwt with the algorithm, issuer and audience pinned; `alg: none`, HS/RS confusion and tampering fail. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.secret,
      algorithms: [JWT_ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: 0, maxAge: `${config.jwt.accessTtlSeconds + 5}s` },
    });
  }

  validate(claims: AccessTokenClaims): Promise<Principal> {
    return this.resolver.fromAccessToken(claims);
  }
}
