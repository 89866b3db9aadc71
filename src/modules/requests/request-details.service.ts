import { Injectable } from '@nestjs/common';
import { iso, isoRequired } from '../../common/api/time';
import { ApprovalRow } from '../approvals/approval.entity';
import { ApprovalsService } from '../approvals/approvals.service';
import { AuditService } from '../audit/audit.service';
import { JobRow } from '../jobs/job.entity';
import { JobsService } from '../jobs/jobs.service';
import { ApprovalDto, RequestDetailDto, RequestDto, RequestJobDto } from './dto/request.dto';
import { RequestTypeRegistry } from './request-types';
import { awaitsApproval } from './request-lifecycle';
import { RequestRow } from './request.entity';
import { asTenantId } from '../../common/db/tenant-id';

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
  // Snapshots taken before groups existed have no approver_group_ids.
  workflow: r.workflow ? { ...r.workflow, stages: r.workflow.stages.map((s) => ({ ...s, approver_group_ids: s.approver_group_ids ?? [] })) } : null,
  job_id: r.job_id,
  break_glass: r.break_glass,
  approval_expires_at: iso(r.approval_expires_at),
  submitted_at: iso(r.submitted_at),
  completed_at: iso(r.completed_at),
  created_at: isoRequired(r.created_at),
  updated_at: isoRequired(r.updated_at),
});

const toApprovalDto = (a: ApprovalRow): ApprovalDto => ({ id: a.id, stage: a.stage, approver_id: a.approver_id, decision: a.decision, comment: a.comment, created_at: isoRequired(a.created_at) });

const toRequestJobDto = (j: JobRow): RequestJobDto => ({
  id: j.id,
  type: j.type,
  purpose: j.payload.rollback === true ? 'rollback' : 'execute',
  status: j.status,
  attempt: j.attempt,
  max_attempts: j.max_attempts,
  agent_id: j.agent_id,
  result: j.result,
  error: j.error,
  created_at: isoRequired(j.created_at),
  completed_at: iso(j.completed_at),
});

/**
 * The request as `GET /requests/:id` shows it, read like a change request: what its type does and which plugin adds
 * it, the target, approvals, the jobs (execution and rollback, with attempts, results and errors) and the timeline.
 */
@Injectable()
export class RequestDetailsService {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    private readonly types: RequestTypeRegistry,
  ) {}

  async detail(row: RequestRow): Promise<RequestDetailDto> {
    const type = await this.types.find(asTenantId(row.tenant_id), row.type);
    const approvals = await this.approvals.listForRequest(asTenantId(row.tenant_id), row.id);
    const jobs = await this.jobs.listForOwner(asTenantId(row.tenant_id), 'request', row.id);
    const timeline = await this.audit.timeline(asTenantId(row.tenant_id), 'request', row.id);
    return {
      ...toRequestDto(row),
      type_description: type?.description ?? null,
      plugin: type?.plugin ? { id: type.plugin.id, manifest_id: type.plugin.manifestId, enabled: type.plugin.enabled } : null,
      rollback_supported: type?.rollback ?? false,
      jobs: jobs.map(toRequestJobDto),
      approvals: approvals.map(toApprovalDto),
      timeline,
    };
  }
}
