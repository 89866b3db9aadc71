import { Controller, Get, Param, Query, Redirect } from '@nestjs/common';
import { ApiForbiddenResponse, ApiFoundResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../../common/auth/public.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { RateLimitClass } from '../../common/http/rate-limit.decorator';
import { OidcCallbackQueryDto } from './dto/auth-provider.dto';
import { TokenPairDto } from './dto/auth.dto';
import { OidcLoginService } from './oidc-login.service';

@ApiTags('Single sign-on')
@Controller('api/v1/auth/oidc')
export class OidcController {
  constructor(private readonly oidc: OidcLoginService) {}

  /** Start signing in with an identity provider: a redirect to its authorization endpoint (PKCE S256, `state`, `nonce`). */
  @ApiOperation({ summary: 'Start an OpenID Connect sign-in' })
  @Get(':provider_id/start')
  @Public()
  @RateLimitClass('auth')
  @Redirect()
  @ApiFoundResponse({ description: "Redirect to the provider's authorization endpoint (valid 10 minutes).", headers: { Location: { description: 'The authorization URL.', schema: { type: 'string', format: 'uri' } } }, content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No enabled identity provider with this id.' })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelope, description: 'SERVICE_UNAVAILABLE: the provider cannot be discovered, or the redirect URI is not configured.' })
  start(@Param('provider_id') providerId: string): Promise<{ url: string; statusCode: number }> {
    return this.oidc.start(providerId);
  }

  /**
   * Where the provider sends the browser back (the `redirect_uri`, or the page at OIDC_REDIRECT_URI that forwards its
   * query here): the same token pair as a password sign-in, as JSON.
   */
  @ApiOperation({ summary: 'Complete an OpenID Connect sign-in' })
  @Get('callback')
  @Public()
  @RateLimitClass('auth')
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'OIDC_LOGIN_FAILED (`details[0].issue`): invalid_state (unknown, used or expired), provider_error, token_exchange_failed, id_token_invalid (issuer, audience, signature, nonce or expiry).' })
  @ApiForbiddenResponse({ type: ErrorEnvelope, description: 'OIDC_ACCOUNT_REFUSED (`details[0].issue`): email_missing, email_not_verified, domain_not_allowed, account_not_eligible, membership_disabled.' })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelope, description: 'SERVICE_UNAVAILABLE: the provider cannot be reached, or the redirect URI is not configured.' })
  callback(@Query() query: OidcCallbackQueryDto): Promise<TokenPairDto> {
    return this.oidc.callback(query);
  }
}
