import { Injectable } from '@nestjs/common';
import { BaseRepository } from '../../common/db/base.repository';
import { ApprovalRow } from './approval.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class ApprovalsRepository extends BaseRepository {
  /** Inserts a decision; the unique (request, stage, approver) makes a second decision by one user impossible. */
  insert(tenantId: TenantId, a: Pick<ApprovalRow, 'id' | 'request_id' | 'stage' | 'approver_id' | 'decision' | 'comment'>): Promise<ApprovalRow | undefined> {
    return this.one<ApprovalRow>(
      `INSERT INTO approvals (id, tenant_id, request_id, stage, approver_id, decision, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (request_id, stage, approver_id) DO NOTHING RETURNING *`,
      [a.id, tenantId, a.request_id, a.stage, a.approver_id, a.decision, a.comment],
    );
  }

  listForRequest(tenantId: TenantId, requestId: string): Promise<ApprovalRow[]> {
    return this.rows<ApprovalRow>(`SELECT * FROM approvals WHERE tenant_id = $1 AND request_id = $2 ORDER BY id`, [tenantId, requestId]);
  }
}
