import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { CreatePolicyDto, EvaluatePolicyDto, PolicyDecisionDto, PolicyDto } from './dto/policy.dto';
import { PoliciesService } from './policies.service';
import { AuditExempt, Audited } from '../../common/audit/audited.decorator';

@ApiTags('Policies')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such object in your tenant (also an unknown workflow, workspace, environment or secret).' })
@Controller('api/v1/policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  /** Create a policy (its CEL condition is compiled on save). */
  @ApiOperation({ summary: 'Create a policy' })
  @Post()
  @Authenticated({ permission: 'policy.edit', scope: 'tenant' })
  @Audited('policy.created')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreatePolicyDto): Promise<PolicyDto> {
    return this.policies.create(principal, dto);
  }

  /** Dry run: the decision a request body would get, with every policy considered and why. */
  @ApiOperation({ summary: 'Evaluate policies (dry run)' })
  @Post('evaluate')
  @HttpCode(200)
  @Authenticated({ permission: 'policy.read', scope: 'tenant' })
  @AuditExempt('dry run: evaluates the policies against a draft request and writes nothing')
  @ApiOkResponse({ type: PolicyDecisionDto })
  evaluate(@CurrentPrincipal() principal: Principal, @Body() dto: EvaluatePolicyDto): Promise<PolicyDecisionDto> {
    return this.policies.evaluate(principal, dto);
  }

  /** List the tenant's policies. */
  @ApiOperation({ summary: 'List policies' })
  @Get()
  @Authenticated({ permission: 'policy.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(PolicyDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.policies.list(principal, query);
  }

  /** Get a policy. */
  @ApiOperation({ summary: 'Get a policy' })
  @Get(':id')
  @Authenticated({ permission: 'policy.read', scope: 'tenant' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<PolicyDto> {
    return this.policies.get(principal, id);
  }

  /** Replace a policy. */
  @ApiOperation({ summary: 'Replace a policy' })
  @Put(':id')
  @Authenticated({ permission: 'policy.edit', scope: 'tenant' })
  @Audited('policy.updated')
  replace(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: CreatePolicyDto): Promise<PolicyDto> {
    return this.policies.replace(principal, id, dto);
  }

  /** Delete a policy. */
  @ApiOperation({ summary: 'Delete a policy' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ permission: 'policy.edit', scope: 'tenant' })
  @Audited('policy.deleted')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.policies.remove(principal, id);
  }
}
