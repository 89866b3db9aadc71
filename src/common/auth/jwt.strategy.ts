import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../../config/app-config';
import { Principal } from './principal';
import { AccessTokenClaims, PRINCIPAL_RESOLVER, PrincipalResolver } from './principal-resolver';

/** passport-jwt with the algorithm (HS256 or RS256), issuer and audience pinned; `alg: none`, HS/RS confusion and tampering fail. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.asymmetric?.publicKeyPem ?? config.jwt.secret,
      algorithms: [config.jwt.algorithm],
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
