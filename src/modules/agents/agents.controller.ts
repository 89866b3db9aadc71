import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { Public } from '../../common/auth/public.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { IdempotencyExempt, RevealsSecret } from '../../common/http/idempotency.decorator';
import { RateLimitClass } from '../../common/http/rate-limit.decorator';
import { AgentsService } from './agents.service';
import { AgentDto, AgentWithSecretDto, CreateEnrollmentTokenDto, DekDto, EnrollAgentDto, EnrollmentTokenDto, HeartbeatDto, MintAgentDto, RegisterPublicKeyDto } from './dto/agent.dto';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Agents')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant.' })
@Controller('api/v1/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  /** Create an enrollment token (shown once) binding future agents to a workspace (and environment). */
  @ApiOperation({ summary: 'Create an enrollment token' })
  @Post('enrollment-tokens')
  @RevealsSecret()
  @Authenticated({ permission: 'agent.mint' })
  @Audited('agent_enrollment_token.created')
  createEnrollmentToken(@CurrentPrincipal() principal: Principal, @Body() dto: CreateEnrollmentTokenDto): Promise<EnrollmentTokenDto> {
    return this.agents.createEnrollmentToken(principal, dto);
  }

  /** Enroll with `Authorization: Bearer cse_…`; returns the agent and its secret (once). */
  @ApiOperation({ summary: 'Enroll an agent' })
  @Audited('agent.enrolled')
  @Post('enroll')
  @Public()
  @RateLimitClass('auth')
  @IdempotencyExempt()
  @ApiBearerAuth('bearer')
  @ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'Invalid, expired or used-up enrollment token.' })
  enroll(@Headers('authorization') authorization: string | undefined, @Body() dto: EnrollAgentDto): Promise<AgentWithSecretDto> {
    return this.agents.enroll(authorization, dto);
  }

  /** Mint an agent directly; returns its secret once. */
  @ApiOperation({ summary: 'Mint an agent' })
  @Post()
  @RevealsSecret()
  @Authenticated({ permission: 'agent.mint' })
  @Audited('agent.minted')
  mint(@CurrentPrincipal() principal: Principal, @Body() dto: MintAgentDto): Promise<AgentWithSecretDto> {
    return this.agents.mint(principal, dto);
  }

  /** List agents (no credential in any projection). */
  @ApiOperation({ summary: 'List agents' })
  @Get()
  @Authenticated({ permission: 'agent.read' })
  @ApiOkResponse({ type: PageOf(AgentDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.agents.list(principal, query);
  }

  /** Get an agent with its `online`/`offline`/`revoked` status. */
  @ApiOperation({ summary: 'Get an agent' })
  @Get(':id')
  @Authenticated({ permission: 'agent.read' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<AgentDto> {
    return this.agents.get(principal, id);
  }

  /** Revoke an agent: its secret stops working at once and its leased jobs return to the queue. */
  @ApiOperation({ summary: 'Revoke an agent' })
  @Post(':id/revoke')
  @HttpCode(200)
  @Authenticated({ permission: 'agent.revoke' })
  @Audited('agent.revoked')
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<AgentDto> {
    return this.agents.revoke(principal, id);
  }

  /** Register the agent's X25519 public key (raw 32 bytes, base64); needed for patch jobs. */
  @ApiOperation({ summary: 'Register the agent\'s public key' })
  @Put(':id/public-key')
  @HttpCode(204)
  @Authenticated({ principals: ['agent'] })
  @Audited('agent.public_key_registered')
  registerPublicKey(@CurrentPrincipal() principal: Principal, @Body() dto: RegisterPublicKeyDto): Promise<void> {
    return this.agents.registerPublicKey(principal, dto.public_key);
  }

  /** Heartbeat: bumps `last_seen_at` and extends the leases of the jobs the agent holds. */
  @ApiOperation({ summary: 'Agent heartbeat' })
  @Post(':id/heartbeat')
  @HttpCode(204)
  @Authenticated({ principals: ['agent'] })
  @Audited('agent.heartbeat_received')
  heartbeat(@CurrentPrincipal() principal: Principal, @Body() dto: HeartbeatDto): Promise<void> {
    return this.agents.heartbeat(principal, dto);
  }

  /** A fresh 256-bit data key and its KMS-wrapped form, for one read-flow wrap. */
  @ApiOperation({ summary: 'Issue a data key' })
  @Post(':id/dek')
  @RevealsSecret()
  @Authenticated({ principals: ['agent'] })
  @Audited('dek.issued')
  issueDek(@CurrentPrincipal() principal: Principal): Promise<DekDto> {
    return this.agents.issueDek(principal);
  }
}
