import { Inject, Injectable } from '@nestjs/common';
import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../../config/app-config';
import { InvalidCredentialsError } from './auth.errors';
import { Principal } from './principal';
import { AccessTokenClaims, PRINCIPAL_RESOLVER, PrincipalResolver } from './principal-resolver';

/** The key that verifies access tokens, prepared once (given a string, jsonwebtoken re-parses it per request). */
export function accessTokenVerifyKey(config: AppConfig): KeyObject {
  return config.jwt.asymmetric ? createPublicKey(config.jwt.asymmetric.publicKeyPem) : createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
}

/** passport-jwt with the algorithm (HS256 or RS256), issuer and audience pinned; `alg: none`, HS/RS confusion and tampering fail. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: accessTokenVerifyKey(config) as unknown as string,
      algorithms: [config.jwt.algorithm],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: 0, maxAge: `${config.jwt.accessTtlSeconds + 5}s` },
    });
  }

  validate(claims: AccessTokenClaims): Promise<Principal> {
    // jsonwebtoken checks `exp` only when present: a token without one would never expire.
    if (typeof claims.exp !== 'number') return Promise.reject(new InvalidCredentialsError('The access token has no expiry (exp).'));
    return this.resolver.fromAccessToken(claims);
  }
}
