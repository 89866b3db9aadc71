import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { BulkSecretsDto, BulkSecretsResultDto, ListSecretsQueryDto, SecretDto } from './dto/secret.dto';
import { SecretsService } from './secrets.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Secrets')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such secret in your tenant.' })
@Controller('api/v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  /** The discovered inventory (metadata only), with filters; repeat `label=k:v` to require several labels. */
  @ApiOperation({ summary: 'List discovered secrets' })
  @Get()
  @Authenticated({ permission: 'secret.read_metadata' })
  @ApiOkResponse({ type: PageOf(SecretDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListSecretsQueryDto) {
    return this.secrets.list(principal, query);
  }

  /** One discovered secret (metadata only). */
  @ApiOperation({ summary: 'Get a discovered secret' })
  @Get(':id')
  @Authenticated({ permission: 'secret.read_metadata' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<SecretDto> {
    return this.secrets.get(principal, id);
  }
}

@ApiTags('AgentSecrets')
@Controller('api/v1/agents/:id/secrets')
export class AgentSecretsController {
  constructor(private readonly secrets: SecretsService) {}

  /** Report discovered secrets (upsert); with `full_sync`, the ones no longer reported become `removed`. */
  @ApiOperation({ summary: 'Report discovered secrets' })
  @Post('bulk')
  @HttpCode(200)
  @Authenticated({ principals: ['agent'] })
  @Audited('secrets.synced')
  @ApiOkResponse({ type: BulkSecretsResultDto })
  bulk(@CurrentPrincipal() principal: Principal, @Body() dto: BulkSecretsDto): Promise<BulkSecretsResultDto> {
    return this.secrets.bulkUpsert(principal, dto);
  }
}
