import { Injectable } from '@nestjs/common';
import { newId } from '../../common/crypto/ids';
import { ApprovalRow } from './approval.entity';
import { ApprovalsRepository } from './approvals.repository';
import { TenantId } from '../../common/db/tenant-id';

/** Storage of approval decisions; the rules are pure (`approval-rules.ts`) and the transitions belong to requests. */
@Injectable()
export class ApprovalsService {
  constructor(private readonly repo: ApprovalsRepository) {}

  record(tenantId: TenantId, requestId: string, stage: number, approverId: string, decision: 'approved' | 'rejected', comment: string | null): Promise<ApprovalRow | undefined> {
    return this.repo.insert(tenantId, { id: newId('approval'), request_id: requestId, stage, approver_id: approverId, decision, comment });
  }

  listForRequest(tenantId: TenantId, requestId: string): Promise<ApprovalRow[]> {
    return this.repo.listForRequest(tenantId, requestId);
  }
}
