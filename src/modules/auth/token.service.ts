import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { secretKeyId } from '../../common/auth/jwt.strategy';
import { newId } from '../../common/crypto/ids';
import { newOpaqueToken, sha256Hex } from '../../common/crypto/tokens';
import { AppConfig } from '../../config/app-config';
import { SessionsService } from '../users/sessions.service';

export interface IssuedTokens {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

/** Signs access tokens and mints refresh tokens (stored as SHA-256 only). */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly sessions: SessionsService,
  ) {}

  async issue(session: { id: string; tenant_id: string; user_id: string; expires_at: Date }): Promise<IssuedTokens> {
    const accessToken = this.jwt.sign(
      { tid: session.tenant_id, sid: session.id },
      {
        algorithm: this.config.jwt.algorithm,
        ...(this.config.jwt.asymmetric
          ? { privateKey: this.config.jwt.asymmetric.privateKeyPem, keyid: this.config.jwt.asymmetric.kid }
          : { secret: this.config.jwt.secret, keyid: secretKeyId(this.config.jwt.secret) }),
        subject: session.user_id,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        expiresIn: this.config.jwt.accessTtlSeconds,
        jwtid: randomUUID(),
      },
    );
    const refreshToken = newOpaqueToken('csr');
    await this.sessions.addRefreshToken(newId('refreshToken'), session.id, sha256Hex(refreshToken));
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.config.jwt.accessTtlSeconds,
      refresh_token: refreshToken,
      refresh_expires_in: Math.max(0, Math.floor((session.expires_at.getTime() - Date.now()) / 1000)),
    };
  }
}
