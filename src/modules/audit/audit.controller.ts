import { Controller, Get, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PageOf, PaginationQueryDto } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { AuditService } from './audit.service';
import { AuditCheckpointPageDto, AuditEventDto, AuditFilterQueryDto, AuditVerificationDto } from './dto/audit.dto';

@ApiTags('Audit')
@Controller('api/v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Audit events of your tenant, newest first, with filters. */
  @ApiOperation({ summary: 'List audit events' })
  @Get()
  @Authenticated({ permission: 'audit.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(AuditEventDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: AuditFilterQueryDto) {
    return this.audit.list(principal, query);
  }

  /** NDJSON stream of the filtered events (one JSON object per line), constant memory for any size. */
  @ApiOperation({ summary: 'Export audit events (NDJSON)' })
  @Get('export')
  @Authenticated({ permission: 'audit.read', scope: 'tenant' })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'One AuditEvent JSON object per line.', schema: { type: 'string' } })
  export(@CurrentPrincipal() principal: Principal, @Query() query: AuditFilterQueryDto): StreamableFile {
    return new StreamableFile(this.audit.export(principal, query), { type: 'application/x-ndjson; charset=utf-8' });
  }

  /** Recompute your tenant's hash chain; names the first event that does not match. */
  @ApiOperation({ summary: 'Verify the audit chain' })
  @Get('verify')
  @Authenticated({ permission: 'audit.read', scope: 'tenant' })
  verify(@CurrentPrincipal() principal: Principal): Promise<AuditVerificationDto> {
    return this.audit.verify(principal);
  }

  /** Signed checkpoints of your tenant's chain with the Ed25519 public key, newest first. */
  @ApiOperation({ summary: 'List signed audit checkpoints' })
  @Get('checkpoints')
  @Authenticated({ permission: 'audit.read', scope: 'tenant' })
  checkpoints(@CurrentPrincipal() principal: Principal, @Query() query: PaginationQueryDto): Promise<AuditCheckpointPageDto> {
    return this.audit.checkpoints(principal, query);
  }

  /** One audit event. */
  @ApiOperation({ summary: 'Get an audit event' })
  @Get(':id')
  @Authenticated({ permission: 'audit.read', scope: 'tenant' })
  @ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such event in your tenant.' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<AuditEventDto> {
    return this.audit.get(principal, id);
  }
}
