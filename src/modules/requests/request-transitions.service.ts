import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { holds, Principal, requirePermission } from '../../common/auth/principal';
import type { AuditAction } from '../../common/audit/audit-actions';
import { tallyStage } from '../approvals/approval-rules';
import { ApprovalEligibilityService } from '../approvals/approval-eligibility.service';
import { ApprovalsService } from '../approvals/approvals.service';
import { AuditService } from '../audit/audit.service';
import { JobRow } from '../jobs/job.entity';
import { JobsService } from '../jobs/jobs.service';
import { PoliciesService } from '../policies/policies.service';
import { PolicyInputBuilder } from '../policies/policy-input.builder';
import { SecretsService } from '../secrets/secrets.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { WorkflowsService } from '../workflows/workflows.service';
import { RequestDetailDto } from './dto/request.dto';
import { RequestDetailsService } from './request-details.service';
import { InvalidTransition, JobOutcome, jobOutcome, RequestAction, RequestStatus, transition } from './request-lifecycle';
import { RequestRow } from './request.entity';
import { capabilityForProvider, RequestTypeDefinition, RequestTypeRegistry } from './request-types';
import { AlreadyDecidedError, InvalidStateTransitionError, NotEligibleApproverError, RequestNotFoundError, SelfApprovalError } from './requests.errors';
import { RequestsRepository } from './requests.repository';
import { decidable, RequestVisibilityService } from './request-visibility.service';
import { WrapsService } from './wraps.service';
import { asTenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';

/** The webhook event of each end of a job, where there is one (a failed rollback is announced as failed). */
const FOLLOW_EVENTS = { complete: 'request.completed', fail: 'request.failed', rollback_complete: 'request.rolled_back', rollback_fail: 'request.failed' } as const;

const FOLLOW_ACTIONS: Record<JobOutcome, AuditAction> = {
  complete: 'request.completed',
  fail: 'request.failed',
  rollback_complete: 'request.rolled_back',
  rollback_fail: 'request.rollback_failed',
};

/** The transition `action` from `status`, or 409 INVALID_STATE_TRANSITION naming what is allowed. */
export function step(status: RequestStatus, action: RequestAction): RequestStatus {
  try {
    return transition(status, action);
  } catch (e) {
    if (e instanceof InvalidTransition) throw new InvalidStateTransitionError(e);
    throw e;
  }
}

/**
 * Everything that moves a request after it exists: the policy decision at submit, approvals stage by stage,
 * rejection, break-glass, cancel, execution through a job, rollback, and following the job to the end.
 * Every transition locks the request row and commits its status, approval, job and audit event together.
 */
@Injectable()
export class RequestTransitionsService {
  constructor(
    private readonly repo: RequestsRepository,
    private readonly types: RequestTypeRegistry,
    private readonly visibility: RequestVisibilityService,
    private readonly eligibility: ApprovalEligibilityService,
    private readonly approvals: ApprovalsService,
    private readonly secrets: SecretsService,
    private readonly workflows: WorkflowsService,
    private readonly policies: PoliciesService,
    private readonly policyInput: PolicyInputBuilder,
    private readonly jobs: JobsService,
    private readonly wraps: WrapsService,
    private readonly details: RequestDetailsService,
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
  ) {
    this.jobs.registerOwner('request', { jobFinished: (job) => this.followJob(job) });
  }

  /** draft → submitted → the policy decision (deny / auto-approve / the workflow's first stage). In the caller's transaction. */
  async submitLocked(principal: Principal, row: RequestRow): Promise<RequestRow> {
    step(row.status, 'submit');
    const secret = row.secret_id ? await this.secrets.findInTenant(asTenantId(row.tenant_id), row.secret_id) : undefined;
    const input = await this.policyInput.build(principal, {
      type: row.type,
      secret,
      target: row.target,
      workspaceId: row.workspace_id,
      environmentId: row.environment_id,
      accessDurationSeconds: row.access_duration_seconds,
    });
    const decision = await this.policies.decide(asTenantId(row.tenant_id), input);
    const base = { submitted_at: new Date(), policy_decision: { ...decision } };
    await this.audit.record({ action: 'request.submitted', resourceType: 'request', resourceId: row.id, payload: { effect: decision.effect, policy_id: decision.policy_id } });
    await this.notify(row, 'request.submitted', { policy_effect: decision.effect });

    if (decision.effect === 'deny') {
      const updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { ...base, status: transition('submitted', 'deny'), decided_at: new Date() });
      await this.audit.record({ action: 'request.rejected', resourceType: 'request', resourceId: row.id, outcome: 'failure', payload: { by: 'policy', policy_id: decision.policy_id } });
      await this.notify(updated, 'request.rejected', { by: 'policy' });
      return updated;
    }
    if (decision.effect === 'auto_approve') {
      const workflow = await this.workflows.defaultWorkflow(asTenantId(row.tenant_id));
      const approved = await this.repo.update(asTenantId(row.tenant_id), row.id, { ...base, workflow, status: transition('submitted', 'auto_approve'), decided_at: new Date() });
      await this.audit.record({ action: 'request.approved', resourceType: 'request', resourceId: row.id, payload: { by: 'policy', policy_id: decision.policy_id } });
      await this.notify(approved, 'request.approved', { by: 'policy' });
      return workflow.auto_execute ? this.startExecution(approved) : approved;
    }
    const workflow = decision.workflow_id ? await this.workflows.snapshot(asTenantId(row.tenant_id), decision.workflow_id) : await this.workflows.defaultWorkflow(asTenantId(row.tenant_id));
    const pending = await this.repo.update(asTenantId(row.tenant_id), row.id, {
      ...base,
      workflow,
      current_stage: 0,
      status: transition('submitted', 'require_approval'),
      approval_expires_at: workflow.approval_timeout_seconds ? new Date(Date.now() + workflow.approval_timeout_seconds * 1000) : null,
    });
    await this.notifyApprovalNeeded(pending);
    return pending;
  }

  // ---------------------------------------------------------------- approvals

  @Transactional()
  async approve(principal: Principal, id: string, comment?: string, approverId?: string): Promise<RequestDetailDto> {
    if (approverId !== undefined && approverId !== principal.id) throw new PermissionDeniedError('request.approve', 'You can only approve as yourself.');
    return this.decide(principal, id, 'approved', comment ?? null);
  }

  @Transactional()
  async reject(principal: Principal, id: string, reason: string): Promise<RequestDetailDto> {
    return this.decide(principal, id, 'rejected', reason);
  }

  private async decide(principal: Principal, id: string, decision: 'approved' | 'rejected', comment: string | null): Promise<RequestDetailDto> {
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row) throw new RequestNotFoundError(id);
    step(row.status, decision === 'approved' ? 'approve_stage' : 'reject');
    const stageIndex = row.current_stage ?? 0;
    const workflow = required(row.workflow, `workflow snapshot of request ${row.id} awaiting approval`);
    const stage = workflow.stages[stageIndex];
    if (principal.id === row.requester_id) throw new SelfApprovalError();
    const reason = await this.eligibility.reason(principal, decidable(row), stage);
    if (reason) throw new NotEligibleApproverError(reason);
    const recorded = await this.approvals.record(asTenantId(row.tenant_id), row.id, stageIndex, principal.id, decision, comment);
    if (!recorded) throw new AlreadyDecidedError();
    await this.audit.record({ action: decision === 'approved' ? 'request.approval_given' : 'request.rejection_given', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, stage_name: stage.name, comment } });

    const tally = tallyStage(stage, (await this.approvals.listForRequest(asTenantId(row.tenant_id), row.id)).filter((a) => a.stage === stageIndex));
    let updated = row;
    if (tally.rejected) {
      updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: transition(row.status, 'reject'), decided_at: new Date() });
      await this.audit.record({ action: 'request.rejected', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, by: principal.id } });
      await this.notify(updated, 'request.rejected', { stage: stageIndex, by: principal.id, comment });
    } else if (tally.passed && stageIndex + 1 < workflow.stages.length) {
      updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: transition(row.status, 'approve_stage'), current_stage: stageIndex + 1 });
      await this.audit.record({ action: 'request.stage_approved', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, approved_by: tally.approvedBy } });
      await this.notifyApprovalNeeded(updated);
    } else if (tally.passed) {
      updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: transition(row.status, 'approve_final'), decided_at: new Date() });
      await this.audit.record({ action: 'request.approved', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, approved_by: tally.approvedBy } });
      await this.notify(updated, 'request.approved', { stage: stageIndex, approved_by: tally.approvedBy });
      if (workflow.auto_execute) updated = await this.startExecution(updated);
    }
    return this.details.detail(updated);
  }

  @Transactional()
  async breakGlass(principal: Principal, id: string, reason: string): Promise<RequestDetailDto> {
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row) throw new RequestNotFoundError(id);
    requirePermission(principal, 'request.break_glass', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    let updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: step(row.status, 'break_glass'), break_glass: true, decided_at: new Date() });
    await this.audit.record({ action: 'request.break_glass', resourceType: 'request', resourceId: row.id, payload: { reason, previous_status: row.status } });
    await this.notify(updated, 'request.break_glass', { break_glass_reason: reason, by: principal.id, previous_status: row.status });
    const autoExecute = row.workflow?.auto_execute ?? true;
    if (autoExecute) updated = await this.startExecution(updated);
    return this.details.detail(updated);
  }

  // ---------------------------------------------------------------- cancel, execute, rollback

  @Transactional()
  async cancel(principal: Principal, id: string, reason?: string): Promise<RequestDetailDto> {
    const row = await this.visibility.lock(principal, id);
    const scope = { workspaceId: row.workspace_id, environmentId: row.environment_id };
    const allowed = row.requester_id === principal.id || (holds(principal, 'request.read_all', scope) && holds(principal, 'request.execute', scope));
    if (!allowed) throw new PermissionDeniedError('request.execute', 'Only the requester, or a holder of request.read_all and request.execute, can cancel.');
    const updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: step(row.status, 'cancel'), decided_at: new Date() });
    await this.audit.record({ action: 'request.cancelled', resourceType: 'request', resourceId: row.id, payload: { reason } });
    return this.details.detail(updated);
  }

  @Transactional()
  async execute(principal: Principal, id: string): Promise<RequestDetailDto> {
    const row = await this.visibility.lock(principal, id);
    if (row.requester_id !== principal.id) requirePermission(principal, 'request.execute', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    step(row.status, 'execute');
    if (row.workflow?.auto_execute !== false) {
      throw new InvalidStateTransitionError(new InvalidTransition(row.status, 'execute', []), 'This request executes automatically; there is nothing to trigger.');
    }
    return this.details.detail(await this.startExecution(row));
  }

  /**
   * completed/failed → rolling_back, with a job of the same type carrying the original target and the result of the job
   * that executed the request (`{target, rollback: true, original_result}`; settings join it at claim time).
   */
  @Transactional()
  async rollback(principal: Principal, id: string, reason: string): Promise<RequestDetailDto> {
    const row = await this.visibility.lock(principal, id);
    if (row.requester_id !== principal.id) requirePermission(principal, 'request.execute', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    const type = await this.types.find(asTenantId(row.tenant_id), row.type);
    if (!type?.rollback || !type.plugin) {
      throw new InvalidStateTransitionError(new InvalidTransition(row.status, 'rollback', []), `${row.type} has no rollback: its request type does not declare one.`);
    }
    const status = step(row.status, 'rollback');
    const executed = row.job_id ? await this.jobs.find(asTenantId(row.tenant_id), row.job_id) : undefined;
    const job = await this.enqueuePluginJob(row, type, { target: row.target, rollback: true, original_result: executed?.result ?? null });
    const updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status, job_id: job.id });
    await this.audit.record({ action: 'request.rollback_started', resourceType: 'request', resourceId: row.id, payload: { reason, previous_status: row.status, job_id: job.id, rolled_back_job_id: row.job_id } });
    return this.details.detail(updated);
  }

  /** approved → executing, with the job for the request's workspace/environment and the type's capability. */
  private async startExecution(row: RequestRow): Promise<RequestRow> {
    const type = required(await this.types.find(asTenantId(row.tenant_id), row.type), `request type ${row.type} of request ${row.id}`);
    const job = type.plugin ? await this.enqueuePluginJob(row, type, { target: row.target }) : await this.enqueueSecretJob(row, type);
    const updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: transition(row.status, 'execute'), job_id: job.id });
    await this.audit.record({ action: 'request.execution_started', resourceType: 'request', resourceId: row.id, tenantId: row.tenant_id, payload: { job_id: job.id, job_type: job.type } });
    return updated;
  }

  /** A plugin type's job: its own type key, routed by the plugin's capability; settings join the payload at claim time. */
  private enqueuePluginJob(row: RequestRow, type: RequestTypeDefinition, payload: Record<string, unknown>): Promise<JobRow> {
    return this.jobs.enqueue({
      tenantId: asTenantId(row.tenant_id),
      type: type.jobType,
      workspaceId: row.workspace_id,
      environmentId: row.environment_id,
      capability: required(type.capability, `capability of plugin request type ${type.key}`),
      payload,
      pluginId: required(type.plugin, `plugin of request type ${type.key}`).id,
      owner: { type: 'request', id: row.id },
    });
  }

  /** A built-in secret type's job, for the secret's provider capability. */
  private async enqueueSecretJob(row: RequestRow, type: RequestTypeDefinition): Promise<JobRow> {
    const secret = required(
      await this.secrets.findInTenant(asTenantId(row.tenant_id), required(row.secret_id, `secret of request ${row.id}`)),
      `secret ${row.secret_id} of request ${row.id}`,
    );
    const patchWrap = type.key === 'secret.patch' ? await this.wraps.patchWrapOf(row) : undefined;
    return this.jobs.enqueue({
      tenantId: asTenantId(row.tenant_id),
      type: type.jobType,
      workspaceId: row.workspace_id,
      environmentId: row.environment_id,
      capability: capabilityForProvider(secret.provider),
      requiresPublicKey: type.requiresPublicKey,
      payload: { secret: { id: secret.id, provider: secret.provider, cluster_name: secret.cluster_name, ref: secret.ref }, ...(patchWrap ? { wrap_id: patchWrap.id } : {}) },
      owner: { type: 'request', id: row.id },
    });
  }

  /**
   * The request follows its current job: an execution succeeded → completed, failed or dead → failed; a rollback job
   * succeeded → rolled_back, failed or dead → failed. Inside the job's transaction.
   */
  private async followJob(job: JobRow): Promise<void> {
    if (job.owner_id === null) return;
    const row = await this.repo.lock(asTenantId(job.tenant_id), job.owner_id);
    if (!row || row.job_id !== job.id) return;
    const action = jobOutcome(row.status, job.status === 'succeeded');
    if (!action) return;
    const updated = await this.repo.update(asTenantId(row.tenant_id), row.id, { status: transition(row.status, action), completed_at: new Date() });
    await this.notify(updated, FOLLOW_EVENTS[action], { job_id: job.id, job_status: job.status, error: job.error });
    await this.audit.record({
      action: FOLLOW_ACTIONS[action],
      resourceType: 'request',
      resourceId: row.id,
      tenantId: asTenantId(row.tenant_id),
      outcome: action === 'complete' || action === 'rollback_complete' ? 'success' : 'failure',
      payload: { job_id: job.id, job_status: job.status, error: job.error },
    });
  }

  // ---------------------------------------------------------------- notifications (webhook outbox, same transaction)

  private async notify(row: RequestRow, event: Parameters<WebhooksService['emit']>[1], extra: Record<string, unknown> = {}): Promise<void> {
    await this.webhooks.emit(asTenantId(row.tenant_id), event, requestEventData(row, extra));
  }

  /** The current stage, what it still needs, and who may give it (with emails, so a receiver can ask them directly). */
  private async notifyApprovalNeeded(row: RequestRow): Promise<void> {
    const stageIndex = row.current_stage ?? 0;
    const stage = required(row.workflow, `workflow snapshot of request ${row.id} awaiting approval`).stages[stageIndex];
    const decisions = (await this.approvals.listForRequest(asTenantId(row.tenant_id), row.id)).filter((a) => a.stage === stageIndex);
    const tally = tallyStage(stage, decisions);
    const approvers = await this.eligibility.eligibleApprovers(decidable(row), stage, new Set(decisions.map((d) => d.approver_id)));
    await this.notify(row, 'request.approval_needed', { stage: stageIndex, stage_name: stage.name, remaining_approvals: tally.remaining, eligible_approvers: approvers });
  }
}

/** What every request event carries. */
export function requestEventData(row: RequestRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: row.id,
    type: row.type,
    title: row.title,
    reason: row.reason,
    status: row.status,
    requester_id: row.requester_id,
    workspace_id: row.workspace_id,
    environment_id: row.environment_id,
    break_glass: row.break_glass,
    ...extra,
  };
}
