import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { Public } from '../../common/auth/public.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { IdempotencyExempt } from '../../common/http/idempotency.decorator';
import { RateLimitClass } from '../../common/http/rate-limit.decorator';
import { AuthService } from './auth.service';
import { AcceptInvitationDto, LoginDto, MeDto, RefreshDto, SetupDto, SetupResultDto, SetupStatusDto, SwitchTenantDto, TokenPairDto } from './dto/auth.dto';
import { AuditExempt } from '../../common/audit/audited.decorator';

@ApiTags('Auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Whether first-run setup is still needed. */
  @ApiOperation({ summary: 'Whether setup is needed' })
  @Get('setup-status')
  @Public()
  setupStatus(): Promise<SetupStatusDto> {
    return this.auth.setupStatus();
  }

  /** First run: create the platform admin and the `default` tenant. */
  @ApiOperation({ summary: 'First-run setup' })
  @AuditExempt('credential route: AuthService records its session events itself, failures in a detached transaction that survives the 401')
  @Post('setup')
  @Public()
  @RateLimitClass('auth')
  @IdempotencyExempt()
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'SETUP_ALREADY_COMPLETED' })
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'INVALID_CREDENTIALS: NODE_ENV=production and `setup_token` missing or wrong' })
  setup(@Body() dto: SetupDto): Promise<SetupResultDto> {
    return this.auth.setup(dto);
  }

  /** Sign in with email and password: an access token and a rotating refresh token. */
  @ApiOperation({ summary: 'Sign in' })
  @AuditExempt('credential route: AuthService records its session events itself, failures in a detached transaction that survives the 401')
  @Post('login')
  @Public()
  @RateLimitClass('auth')
  @IdempotencyExempt()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'INVALID_CREDENTIALS' })
  @ApiForbiddenResponse({ type: ErrorEnvelope, description: 'PASSWORD_LOGIN_DISABLED: the tenant signs in through its identity provider (its owners keep their password).' })
  login(@Body() dto: LoginDto): Promise<TokenPairDto> {
    return this.auth.login(dto);
  }

  /** Exchange a refresh token for a new pair (each refresh token works once; reuse revokes the session). */
  @ApiOperation({ summary: 'Refresh the token pair' })
  @AuditExempt('credential route: AuthService records its session events itself, failures in a detached transaction that survives the 401')
  @Post('refresh')
  @Public()
  @RateLimitClass('auth')
  @IdempotencyExempt()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'INVALID_CREDENTIALS or TOKEN_REVOKED' })
  refresh(@Body() dto: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refresh_token);
  }

  /** Revoke the current session: its refresh token and every access token carrying its `sid`. */
  @ApiOperation({ summary: 'Sign out' })
  @Post('logout')
  @HttpCode(204)
  @Authenticated({ principals: ['user'] })
  @AuditExempt('credential route: AuthService records its session events itself, failures in a detached transaction that survives the 401')
  logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    return this.auth.logout(principal);
  }

  /** The caller, the active tenant, memberships and effective permissions per scope. */
  @ApiOperation({ summary: 'The caller and their permissions' })
  @Get('me')
  @Authenticated({ principals: ['user'] })
  me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.auth.me(principal);
  }

  /** A new token pair for another tenant the user belongs to. */
  @ApiOperation({ summary: 'Switch tenant' })
  @Post('switch-tenant')
  @HttpCode(200)
  @IdempotencyExempt()
  @Authenticated({ principals: ['user'] })
  @AuditExempt('credential route: AuthService records its session events itself, failures in a detached transaction that survives the 401')
  @ApiOkResponse({ type: TokenPairDto })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'Not a member of that tenant.' })
  @ApiForbiddenResponse({ type: ErrorEnvelope, description: 'PERMISSION_DENIED: a session opened through an identity provider stays in its tenant; PASSWORD_LOGIN_DISABLED: the target tenant does not take passwords from this user.' })
  switchTenant(@CurrentPrincipal() principal: Principal, @Body() dto: SwitchTenantDto): Promise<TokenPairDto> {
    return this.auth.switchTenant(principal, dto.tenant_id);
  }

  /** Set a password with an invitation token; returns a token pair. */
  @ApiOperation({ summary: 'Accept an invitation' })
  @AuditExempt('credential route: AuthService records its session events itself, failures in a detached transaction that survives the 401')
  @Post('accept-invitation')
  @Public()
  @RateLimitClass('auth')
  @IdempotencyExempt()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'Invalid, expired or used invitation (INVALID_CREDENTIALS).' })
  @ApiForbiddenResponse({ type: ErrorEnvelope, description: 'PASSWORD_LOGIN_DISABLED: the tenant signs in through its identity provider.' })
  acceptInvitation(@Body() dto: AcceptInvitationDto): Promise<TokenPairDto> {
    return this.auth.acceptInvitation(dto);
  }
}
