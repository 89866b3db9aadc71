import { Inject, Injectable } from '@nestjs/common';
import { createHash, createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../../config/app-config';
import { InvalidCredentialsError } from './auth.errors';
import { Principal } from './principal';
import { AccessTokenClaims, PRINCIPAL_RESOLVER, PrincipalResolver } from './principal-resolver';

/**
 * Key id of an HS256 secret, sent as the token's `kid` so that a rotated secret (JWT_SECRET_PREVIOUS) can be found.
 * A digest of a 32+ byte secret: it tells nothing the token's own HMAC does not.
 */
export function secretKeyId(secret: string): string {
  return createHash('sha256').update(`countersign-jwt-kid|${secret}`).digest('base64url').slice(0, 22);
}

/**
 * The keys that verify access tokens, prepared once (given a string, jsonwebtoken re-parses it per request): the
 * current one and, during a rotation, the previous ones, by key id. Returns the key a token's `kid` names, or the
 * current key (a token without `kid`, or naming an unknown key, then fails its signature check).
 */
export function accessTokenKeys(config: AppConfig): (rawJwt: string) => KeyObject {
  const byKid = new Map<string, KeyObject>();
  let current: KeyObject;
  if (config.jwt.asymmetric) {
    current = createPublicKey(config.jwt.asymmetric.publicKeyPem);
    byKid.set(config.jwt.asymmetric.kid, current);
    for (const previous of config.jwt.previousPublicKeys) byKid.set(previous.kid, createPublicKey(previous.publicKeyPem));
  } else {
    current = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
    byKid.set(secretKeyId(config.jwt.secret), current);
    for (const previous of config.jwt.previousSecrets) byKid.set(secretKeyId(previous), createSecretKey(Buffer.from(previous, 'utf8')));
  }
  return (rawJwt) => {
    const kid = headerKid(rawJwt);
    return (kid !== undefined && byKid.get(kid)) || current;
  };
}

function headerKid(rawJwt: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(rawJwt.split('.')[0], 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header?.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * passport-jwt hands the key to `jsonwebtoken.verify`, which takes a `KeyObject` (jsonwebtoken's own `Secret` type
 * says so), but its typings name `string | Buffer` only. Method parameters are checked bivariantly, so this declares
 * the callback as what it really is without a cast.
 */
interface KeyCallback {
  deliver(err: unknown, key?: string | Buffer | KeyObject): void;
}

const keyProvider =
  (keyFor: (rawJwt: string) => KeyObject) =>
  (_req: unknown, rawJwt: string, done: (err: unknown, key?: string | Buffer) => void): void => {
    const callback: KeyCallback = { deliver: done };
    callback.deliver(null, keyFor(rawJwt));
  };

/** passport-jwt with the algorithm (HS256 or RS256), issuer and audience pinned; `alg: none`, HS/RS confusion and tampering fail. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: keyProvider(accessTokenKeys(config)),
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
