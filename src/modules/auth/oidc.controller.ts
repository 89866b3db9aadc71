import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiForbiddenResponse, ApiFoundResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../../common/auth/public.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { RateLimitClass } from '../../common/http/rate-limit.decorator';
import { OidcCallbackQueryDto, OidcStartDto } from './dto/auth-provider.dto';
import { TokenPairDto } from './dto/auth.dto';
import { OidcLoginService } from './oidc-login.service';

@ApiTags('Auth')
@Controller('api/v1/auth/oidc')
export class OidcController {
  constructor(private readonly oidc: OidcLoginService) {}

  /**
   * Start signing in with an identity provider (PKCE S256, `state`, `nonce`): a 302 to its authorization endpoint, or
   * with `Accept: application/json` the same URL as JSON (for a console that navigates itself).
   */
  @ApiOperation({ summary: 'Start an OpenID Connect sign-in' })
  @Get(':provider_id/start')
  @Public()
  @RateLimitClass('auth')
  @ApiOkResponse({ type: OidcStartDto, description: 'With `Accept: application/json`: the authorization URL.' })
  @ApiFoundResponse({ description: "Redirect to the provider's authorization endpoint (the sign-in is valid 10 minutes).", headers: { Location: { description: 'The authorization URL.', schema: { type: 'string', format: 'uri' } } } })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No enabled identity provider with this id.' })
  @ApiServiceUnavailableResponse({ type: ErrorEnvelope, description: 'SERVICE_UNAVAILABLE: the provider cannot be discovered, or the redirect URI is not configured.' })
  async start(@Param('provider_id') providerId: string, @Headers('accept') accept: string | undefined, @Res() res: StartResponse): Promise<void> {
    const url = await this.oidc.start(providerId);
    // Sent here (either adapter: Express and Fastify replies both have status/header/send) because the status depends on Accept.
    if (prefersJson(accept)) res.status(200).header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ authorization_url: url } satisfies OidcStartDto));
    else res.status(302).header('Location', url).send();
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

/** What both adapters' responses offer (Express `Response`, Fastify `FastifyReply`). */
interface StartResponse {
  status(code: number): StartResponse;
  header(name: string, value: string): StartResponse;
  send(body?: string): unknown;
}

function prefersJson(accept: string | undefined): boolean {
  return !!accept && /\bapplication\/json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}
