import { Global, Module } from '@nestjs/common';
import { AUDIT_SINK } from '../../common/audit/audit.types';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { AuditSigner } from './audit-signer';

/** Global: every module records through `AuditService.record(...)` inside its unit of work. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditRepository, AuditSigner, { provide: AUDIT_SINK, useExisting: AuditService }],
  exports: [AuditService, AUDIT_SINK],
})
export class AuditModule {}
