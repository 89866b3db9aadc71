import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { RevealsSecret } from '../../common/http/idempotency.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { CreatedTenantDto, CreateTenantDto, ListTenantsQueryDto, TenantDto, UpdateTenantDto } from './dto/tenant.dto';
import { TenantsService } from './tenants.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Tenants')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such tenant (or not yours).' })
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  /** Create a tenant with its built-in roles; `admin_email` becomes its owner (platform admins only). */
  @ApiOperation({ summary: 'Create a tenant' })
  @Post()
  @RevealsSecret()
  @Authenticated({ permission: 'tenant.manage' })
  @Audited('tenant.created')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Slug taken (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateTenantDto): Promise<CreatedTenantDto> {
    return this.tenants.create(principal, dto);
  }

  /** List tenants (platform admins: all; tenant owners: their own). */
  @ApiOperation({ summary: 'List tenants' })
  @Get()
  @Authenticated({ permission: 'tenant.manage' })
  @ApiOkResponse({ type: PageOf(TenantDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListTenantsQueryDto) {
    return this.tenants.list(principal, query);
  }

  /** Get a tenant. */
  @ApiOperation({ summary: 'Get a tenant' })
  @Get(':id')
  @Authenticated({ permission: 'tenant.manage' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TenantDto> {
    return this.tenants.get(principal, id);
  }

  /** Change display name, plan, status (`suspended` refuses the tenant's users, keys and agents) or `password_login` (false: identity-provider sign-in only, owners keep a break-glass password). */
  @ApiOperation({ summary: 'Update a tenant' })
  @Patch(':id')
  @Authenticated({ permission: 'tenant.manage' })
  @Audited('tenant.updated', 'tenant.suspended')
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateTenantDto): Promise<TenantDto> {
    return this.tenants.update(principal, id, dto);
  }

  /** Soft-delete a tenant (`status: "deleted"`); its credentials stop working. */
  @ApiOperation({ summary: 'Delete a tenant' })
  @Delete(':id')
  @Authenticated({ permission: 'tenant.manage' })
  @Audited('tenant.deleted')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TenantDto> {
    return this.tenants.remove(principal, id);
  }
}
