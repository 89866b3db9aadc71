import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Audited } from '../../common/audit/audited.decorator';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { AuthProvidersService } from './auth-providers.service';
import { AuthProviderDto, CreateAuthProviderDto, UpdateAuthProviderDto } from './dto/auth-provider.dto';

const MANAGE = { permission: 'tenant.manage', scope: 'tenant' } as const;
const READ = { permission: 'tenant.read', scope: 'tenant' } as const;

@ApiTags('Auth')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such identity provider in your tenant (or a mapped group does not exist).' })
@Controller('api/v1/auth/providers')
export class AuthProvidersController {
  constructor(private readonly providers: AuthProvidersService) {}

  /** Register an OpenID Connect provider for the tenant; its issuer is discovered now. The client secret is write-only. */
  @ApiOperation({ summary: 'Register an identity provider' })
  @Post()
  @Authenticated(MANAGE)
  @Audited('auth_provider.created')
  @ApiUnprocessableEntityResponse({ type: ErrorEnvelope, description: "UNPROCESSABLE_ENTITY naming `issuer`: its discovery document could not be fetched or does not name this issuer. `IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used with another request." })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateAuthProviderDto): Promise<AuthProviderDto> {
    return this.providers.create(principal, dto);
  }

  /** The tenant's identity providers (never their client secrets). */
  @ApiOperation({ summary: 'List identity providers' })
  @Get()
  @Authenticated(READ)
  @ApiOkResponse({ type: PageOf(AuthProviderDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.providers.list(principal, query);
  }

  /** One identity provider (never its client secret). */
  @ApiOperation({ summary: 'Get an identity provider' })
  @Get(':id')
  @Authenticated(READ)
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<AuthProviderDto> {
    return this.providers.get(principal, id);
  }

  /** Change the issuer, client, scopes, domains, groups claim or mappings (a new issuer or client is discovered again). */
  @ApiOperation({ summary: 'Update an identity provider' })
  @Patch(':id')
  @Authenticated(MANAGE)
  @Audited('auth_provider.updated')
  @ApiUnprocessableEntityResponse({ type: ErrorEnvelope, description: "UNPROCESSABLE_ENTITY naming `issuer`: the (new) issuer's discovery document could not be fetched. `IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used with another request." })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateAuthProviderDto): Promise<AuthProviderDto> {
    return this.providers.update(principal, id, dto);
  }

  /** Remove the provider: its groups become local (members kept), its sessions stay until they expire or are revoked. */
  @ApiOperation({ summary: 'Delete an identity provider' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated(MANAGE)
  @Audited('auth_provider.deleted')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.providers.remove(principal, id);
  }
}
