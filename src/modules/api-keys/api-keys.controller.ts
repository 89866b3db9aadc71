import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { RevealsSecret } from '../../common/http/idempotency.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('ApiKeys')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such key in your tenant, or another user\'s key without `apikey.manage` at tenant scope.' })
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** Mint an API key (shown once) with a subset of your tenant-wide permissions. */
  @ApiOperation({ summary: 'Create an API key' })
  @Post()
  @RevealsSecret()
  @Authenticated({ permission: 'apikey.manage' })
  @Audited('api_key.created')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(principal, dto);
  }

  /** List API keys (never the key itself): every key of the tenant with `apikey.manage` at tenant scope, else your own. */
  @ApiOperation({ summary: 'List API keys' })
  @Get()
  @Authenticated({ permission: 'apikey.manage' })
  @ApiOkResponse({ type: PageOf(ApiKeyDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto) {
    return this.apiKeys.list(principal, query);
  }

  /** Get an API key's metadata (another user's key needs `apikey.manage` at tenant scope). */
  @ApiOperation({ summary: 'Get an API key' })
  @Get(':id')
  @Authenticated({ permission: 'apikey.manage' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApiKeyDto> {
    return this.apiKeys.get(principal, id);
  }

  /** Revoke an API key; refused on its very next use (another user's key needs `apikey.manage` at tenant scope). */
  @ApiOperation({ summary: 'Revoke an API key' })
  @Post(':id/revoke')
  @HttpCode(200)
  @Authenticated({ permission: 'apikey.manage' })
  @Audited('api_key.revoked')
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApiKeyDto> {
    return this.apiKeys.revoke(principal, id);
  }

  /** Delete an API key permanently (another user's key needs `apikey.manage` at tenant scope). */
  @ApiOperation({ summary: 'Delete an API key' })
  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ permission: 'apikey.manage' })
  @Audited('api_key.deleted')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.apiKeys.remove(principal, id);
  }
}
