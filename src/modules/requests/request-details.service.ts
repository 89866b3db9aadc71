import { Injectable } from '@nestjs/common';
import { iso, isoRequired } from '../../common/api/time';
import { ApprovalRow } from '../approvals/approval.entity';
import { ApprovalsService } from '../approvals/approvals.service';
import { AuditService } from '../audit/audit.service';
import { ApprovalDto, RequestDetailDto, RequestDto } from './dto/request.dto';
import { awaitsApproval } from './request-lifecycle';
import { RequestRow } from './request.entity';

export const toRequestDto = (r: RequestRow): RequestDto => ({
  id: r.id,
  tenant_id: r.tenant_id,
  type: r.type,
  title: r.title,
  reason: r.reason,
  status: r.status,
  requester_id: r.requester_id,
  workspace_id: r.workspace_id,
  environment_id: r.environment_id,
  secret_id: r.secret_id,
  target: r.target,
  access_duration_seconds: r.access_duration_seconds,
  current_stage: awaitsApproval(r.status) ? r.current_stage : null,
  policy_decision: r.policy_decision,
  workflow: r.workflow as unknown as Record<string, unknown> | null,
  job_id: r.job_id,
  break_glass: r.break_glass,
  approval_expires_at: iso(r.approval_expires_at),
  submitted_at: iso(r.submitted_at),
  completed_at: iso(r.completed_at),
  created_at: isoRequired(r.created_at),
  updated_at: isoRequired(r.updated_at),
});

const toApprovalDto = (a: ApprovalRow): ApprovalDto => ({ id: a.id, stage: a.stage, approver_id: a.approver_id, decision: a.decision, comment: a.comment, created_at: isoRequired(a.created_at) });

/** The request as `GET /requests/:id` shows it: the row, its approvals and its timeline. */
@Injectable()
export class RequestDetailsService {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly audit: AuditService,
  ) {}

  async detail(row: RequestRow): Promise<RequestDetailDto> {
    const approvals = await this.approvals.listForRequest(row.tenant_id, row.id);
    const timeline = await this.audit.timeline(row.tenant_id, 'request', row.id);
    return { ...toRequestDto(row), approvals: approvals.map(toApprovalDto), timeline };
  }
}
