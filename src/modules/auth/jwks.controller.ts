import { Controller, Get, Header } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/auth/public.decorator';

import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { AppConfig } from '../../config/app-config';
import { JwksNotPublishedError } from './auth.errors';

class JwkDto {
  @ApiProperty({ example: 'RSA' })
  kty: string;
  // Declared by hand: the swagger plugin reads only *.dto.ts files, so undecorated fields here were left out.
  @ApiProperty({ description: 'RSA modulus, base64url.' })
  n: string;
  @ApiProperty({ description: 'RSA public exponent, base64url.', example: 'AQAB' })
  e: string;
  @ApiProperty({ example: 'RS256' })
  alg: string;
  @ApiProperty({ example: 'sig' })
  use: string;
  @ApiProperty({ description: 'Key id, as in the access token header `kid`.' })
  kid: string;
}

class JwksDto {
  @ApiProperty({ type: [JwkDto] })
  keys: JwkDto[];
}

@ApiTags('Auth')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly config: AppConfig) {}

  /** Public keys that verify access tokens: the signing key first, then any previous key still accepted (RS256 only; with HS256 there is nothing public to publish: 404). */
  @ApiOperation({ summary: 'Access-token verification keys (JWKS)', operationId: 'Auth_jwks' })
  @Get('jwks.json')
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({ type: JwksDto })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'Tokens are HS256-signed (no public key).' })
  jwks(): JwksDto {
    const key = this.config.jwt.asymmetric;
    if (!key) throw new JwksNotPublishedError();
    return { keys: [key.jwk, ...this.config.jwt.previousPublicKeys.map((k) => k.jwk)] };
  }
}
