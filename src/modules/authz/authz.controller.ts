import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { AuthzService } from './authz.service';
import { AuthzCheckDto, AuthzDecisionDto, AuthzExplanationDto } from './dto/authz.dto';
import { AuditedRead } from '../../common/audit/audited.decorator';

@ApiTags('Authz')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'The principal or resource is not in your tenant.' })
@Controller('api/v1/authz')
export class AuthzController {
  constructor(private readonly authz: AuthzService) {}

  /** May this user or API key use a permission on a resource? */
  @ApiOperation({ summary: 'Check a permission' })
  @Post('check')
  @HttpCode(200)
  @Authenticated({ permission: 'authz.check' })
  @AuditedRead('authz.checked')
  @ApiOkResponse({ type: AuthzDecisionDto })
  check(@CurrentPrincipal() principal: Principal, @Body() dto: AuthzCheckDto): Promise<AuthzDecisionDto> {
    return this.authz.check(principal, dto);
  }

  /** The decision with the assignments, roles and scopes that led to it. */
  @ApiOperation({ summary: 'Explain a permission decision' })
  @Post('explain')
  @HttpCode(200)
  @Authenticated({ permission: 'authz.check' })
  @AuditedRead('authz.explained')
  @ApiOkResponse({ type: AuthzExplanationDto })
  explain(@CurrentPrincipal() principal: Principal, @Body() dto: AuthzCheckDto): Promise<AuthzExplanationDto> {
    return this.authz.explain(principal, dto);
  }
}
