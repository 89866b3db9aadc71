import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { iso, isoRequired } from '../../common/api/time';
import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { holds, Principal, requirePermission, workspacesWith } from '../../common/auth/principal';
import { decryptWithDek, envelopeDecrypt, envelopeEncrypt, fromB64, toB64 } from '../../common/crypto/envelope';
import { newId } from '../../common/crypto/ids';
import { Kms, KMS } from '../../common/crypto/kms';
import { sealToPublicKey } from '../../common/crypto/x25519-seal';
import { ExclusiveRunner, LOCKS } from '../../common/db/exclusive-runner';
import { AppError } from '../../common/errors/app-error';
import { AgentsService, dekContext } from '../agents/agents.service';
import { ApprovalRow } from '../approvals/approval.entity';
import { covers, ineligibility, RequestScope, StageDefinition, tallyStage } from '../approvals/approval-rules';
import { ApprovalsService } from '../approvals/approvals.service';
import { AuditService } from '../audit/audit.service';
import { JobRow } from '../jobs/job.entity';
import { JobsService } from '../jobs/jobs.service';
import { PoliciesService } from '../policies/policies.service';
import { PolicyInputBuilder } from '../policies/policy-input.builder';
import { GrantSource, RolesService } from '../roles/roles.service';
import { SecretRow } from '../secrets/secret.entity';
import { SecretsService } from '../secrets/secrets.service';
import { WorkflowsService } from '../workflows/workflows.service';
import {
  ApprovalDto,
  ApproversDto,
  CreateReadRequestDto,
  CreateRequestDto,
  CreateWrapDto,
  InboxQueryDto,
  ListRequestsQueryDto,
  RequestDetailDto,
  RequestDto,
  RevealedValueDto,
  SealedWrapDto,
  WrapSummaryDto,
} from './dto/request.dto';
import { awaitsApproval, can, InvalidTransition, RequestAction, RequestStatus, transition } from './request-lifecycle';
import { RequestRow } from './request.entity';
import { capabilityForProvider, RequestTypeRegistry } from './request-types';
import {
  AlreadyDecidedError,
  InvalidStateTransitionError,
  InvalidTargetError,
  NotEligibleApproverError,
  RequestFieldError,
  RequestNotFoundError,
  SelfApprovalError,
  WrapConsumedError,
  WrapExpiredError,
  WrapNotFoundError,
} from './requests.errors';
import { RequestsRepository, Visibility } from './requests.repository';

const DEFAULT_ACCESS_SECONDS = 3600;
const wrapContext = (tenantId: string, wrapId: string) => `wrap:${tenantId}:${wrapId}`;

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

const scopeOf = (r: RequestRow): RequestScope => ({ tenantId: r.tenant_id, workspaceId: r.workspace_id, environmentId: r.environment_id });

/**
 * The governed path: a request is created (a patch value envelope-encrypted at once), submitted to the policies,
 * approved stage by stage, executed by an agent through a job, and — for reads — revealed once through a wrap.
 * Every transition locks the request row and commits its status, approval, job and audit event together.
 */
@Injectable()
export class RequestsService implements OnApplicationBootstrap {
  private readonly types = new RequestTypeRegistry();

  constructor(
    private readonly repo: RequestsRepository,
    private readonly approvals: ApprovalsService,
    private readonly secrets: SecretsService,
    private readonly roles: RolesService,
    private readonly workflows: WorkflowsService,
    private readonly policies: PoliciesService,
    private readonly policyInput: PolicyInputBuilder,
    private readonly jobs: JobsService,
    private readonly agents: AgentsService,
    private readonly audit: AuditService,
    private readonly runner: ExclusiveRunner,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @Inject(KMS) private readonly kms: Kms,
  ) {
    this.jobs.registerOwner('request', { jobFinished: (job) => this.followJob(job) });
  }

  onApplicationBootstrap(): void {
    this.runner.every('request-expiry', LOCKS.requestExpiry, 5000, async () => {
      await this.expireStale();
    });
  }

  // ---------------------------------------------------------------- creation and submission

  @Transactional()
  async create(principal: Principal, dto: CreateRequestDto): Promise<RequestDetailDto> {
    const type = this.types.get(dto.type);
    if (!type) throw new RequestFieldError('type', `unknown request type; known: ${this.types.keys().join(', ')}`);
    if (type.value === 'required' && dto.value === undefined) throw new RequestFieldError('value', `is required for ${type.key}`);
    if (type.value === 'forbidden' && dto.value !== undefined) throw new RequestFieldError('value', `is only accepted for secret.patch`);
    if (type.needsSecret && !dto.secret_id) throw new RequestFieldError('secret_id', `is required for ${type.key}`);
    if (type.needsSecret && dto.target !== undefined) throw new InvalidTargetError(`${type.key} takes a secret_id, not a target`);
    const secret = await this.secretFor(principal, dto.secret_id!);
    requirePermission(principal, 'request.create', { workspaceId: secret.workspace_id, environmentId: secret.environment_id });
    this.assertRequester(principal);

    const row = await this.repo.insert(principal.tenantId, {
      id: newId('request'),
      type: type.key,
      title: dto.title,
      reason: dto.reason,
      status: 'draft',
      requester_id: principal.id,
      workspace_id: secret.workspace_id,
      environment_id: secret.environment_id,
      secret_id: secret.id,
      target: null,
      access_duration_seconds: type.key === 'secret.read' ? (dto.access_duration_seconds ?? DEFAULT_ACCESS_SECONDS) : (dto.access_duration_seconds ?? null),
    });
    if (dto.value !== undefined) await this.sealPatchValue(row, dto.value);
    await this.audit.record({ action: 'request.created', resourceType: 'request', resourceId: row.id, payload: { type: row.type, secret_id: row.secret_id, workspace_id: row.workspace_id } });
    const final = dto.submit === false ? row : await this.submitLocked(principal, row);
    return this.detail(principal, final);
  }

  createRead(principal: Principal, dto: CreateReadRequestDto): Promise<RequestDetailDto> {
    return this.create(principal, { type: 'secret.read', title: 'Read secret', reason: dto.reason, secret_id: dto.secret_id, access_duration_seconds: dto.access_duration_seconds, submit: dto.submit });
  }

  @Transactional()
  async submit(principal: Principal, id: string): Promise<RequestDetailDto> {
    const row = await this.lockVisible(principal, id);
    if (row.requester_id !== principal.id) throw new PermissionDeniedError('request.create', 'Only the requester can submit a draft.');
    return this.detail(principal, await this.submitLocked(principal, row));
  }

  /** draft → submitted → the policy decision (deny / auto-approve / the workflow's first stage). */
  private async submitLocked(principal: Principal, row: RequestRow): Promise<RequestRow> {
    this.step(row.status, 'submit');
    const secret = row.secret_id ? await this.secrets.findInTenant(row.tenant_id, row.secret_id) : undefined;
    const input = await this.policyInput.build(principal, {
      type: row.type,
      secret,
      workspaceId: row.workspace_id,
      environmentId: row.environment_id,
      accessDurationSeconds: row.access_duration_seconds,
    });
    const decision = await this.policies.decide(row.tenant_id, input);
    const base = { submitted_at: new Date(), policy_decision: decision as unknown as Record<string, unknown> };
    await this.audit.record({ action: 'request.submitted', resourceType: 'request', resourceId: row.id, payload: { effect: decision.effect, policy_id: decision.policy_id } });

    if (decision.effect === 'deny') {
      const updated = await this.repo.update(row.tenant_id, row.id, { ...base, status: transition('submitted', 'deny'), decided_at: new Date() });
      await this.audit.record({ action: 'request.rejected', resourceType: 'request', resourceId: row.id, outcome: 'failure', payload: { by: 'policy', policy_id: decision.policy_id } });
      return updated;
    }
    if (decision.effect === 'auto_approve') {
      const workflow = await this.workflows.defaultWorkflow(row.tenant_id);
      const approved = await this.repo.update(row.tenant_id, row.id, { ...base, workflow, status: transition('submitted', 'auto_approve'), decided_at: new Date() });
      await this.audit.record({ action: 'request.approved', resourceType: 'request', resourceId: row.id, payload: { by: 'policy', policy_id: decision.policy_id } });
      return workflow.auto_execute ? this.startExecution(approved) : approved;
    }
    const workflow = decision.workflow_id ? await this.workflows.snapshot(row.tenant_id, decision.workflow_id) : await this.workflows.defaultWorkflow(row.tenant_id);
    return this.repo.update(row.tenant_id, row.id, {
      ...base,
      workflow,
      current_stage: 0,
      status: transition('submitted', 'require_approval'),
      approval_expires_at: workflow.approval_timeout_seconds ? new Date(Date.now() + workflow.approval_timeout_seconds * 1000) : null,
    });
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
    this.step(row.status, decision === 'approved' ? 'approve_stage' : 'reject');
    const stageIndex = row.current_stage ?? 0;
    const stage = row.workflow!.stages[stageIndex];
    if (principal.id === row.requester_id) throw new SelfApprovalError();
    const reason = await this.ineligibleReason(principal, row, stage);
    if (reason) throw new NotEligibleApproverError(reason);
    const recorded = await this.approvals.record(row.tenant_id, row.id, stageIndex, principal.id, decision, comment);
    if (!recorded) throw new AlreadyDecidedError();
    await this.audit.record({ action: decision === 'approved' ? 'request.approval_given' : 'request.rejection_given', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, stage_name: stage.name, comment } });

    const tally = tallyStage(stage, (await this.approvals.listForRequest(row.tenant_id, row.id)).filter((a) => a.stage === stageIndex));
    let updated = row;
    if (tally.rejected) {
      updated = await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, 'reject'), decided_at: new Date() });
      await this.audit.record({ action: 'request.rejected', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, by: principal.id } });
    } else if (tally.passed && stageIndex + 1 < row.workflow!.stages.length) {
      updated = await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, 'approve_stage'), current_stage: stageIndex + 1 });
      await this.audit.record({ action: 'request.stage_approved', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, approved_by: tally.approvedBy } });
    } else if (tally.passed) {
      updated = await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, 'approve_final'), decided_at: new Date() });
      await this.audit.record({ action: 'request.approved', resourceType: 'request', resourceId: row.id, payload: { stage: stageIndex, approved_by: tally.approvedBy } });
      if (row.workflow!.auto_execute) updated = await this.startExecution(updated);
    }
    return this.detail(principal, updated);
  }

  @Transactional()
  async breakGlass(principal: Principal, id: string, reason: string): Promise<RequestDetailDto> {
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row) throw new RequestNotFoundError(id);
    requirePermission(principal, 'request.break_glass', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    let updated = await this.repo.update(row.tenant_id, row.id, { status: this.step(row.status, 'break_glass'), break_glass: true, decided_at: new Date() });
    await this.audit.record({ action: 'request.break_glass', resourceType: 'request', resourceId: row.id, payload: { reason, previous_status: row.status } });
    const autoExecute = row.workflow?.auto_execute ?? true;
    if (autoExecute) updated = await this.startExecution(updated);
    return this.detail(principal, updated);
  }

  // ---------------------------------------------------------------- cancel, execute, rollback

  @Transactional()
  async cancel(principal: Principal, id: string, reason?: string): Promise<RequestDetailDto> {
    const row = await this.lockVisible(principal, id);
    const scope = { workspaceId: row.workspace_id, environmentId: row.environment_id };
    const allowed = row.requester_id === principal.id || (holds(principal, 'request.read_all', scope) && holds(principal, 'request.execute', scope));
    if (!allowed) throw new PermissionDeniedError('request.execute', 'Only the requester, or a holder of request.read_all and request.execute, can cancel.');
    const updated = await this.repo.update(row.tenant_id, row.id, { status: this.step(row.status, 'cancel'), decided_at: new Date() });
    await this.audit.record({ action: 'request.cancelled', resourceType: 'request', resourceId: row.id, payload: { reason } });
    return this.detail(principal, updated);
  }

  @Transactional()
  async execute(principal: Principal, id: string): Promise<RequestDetailDto> {
    const row = await this.lockVisible(principal, id);
    if (row.requester_id !== principal.id) requirePermission(principal, 'request.execute', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    this.step(row.status, 'execute');
    if (row.workflow?.auto_execute !== false) {
      throw new InvalidStateTransitionError(new InvalidTransition(row.status, 'execute', []), 'This request executes automatically; there is nothing to trigger.');
    }
    return this.detail(principal, await this.startExecution(row));
  }

  @Transactional()
  async rollback(principal: Principal, id: string): Promise<RequestDetailDto> {
    const row = await this.lockVisible(principal, id);
    requirePermission(principal, 'request.execute', { workspaceId: row.workspace_id, environmentId: row.environment_id });
    this.step(row.status, 'rollback');
    const type = this.types.get(row.type);
    if (!type?.rollback) throw new InvalidStateTransitionError(new InvalidTransition(row.status, 'rollback', []), `${row.type} does not support rollback.`);
    const updated = await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, 'rollback') });
    await this.audit.record({ action: 'request.rollback_started', resourceType: 'request', resourceId: row.id });
    return this.detail(principal, updated);
  }

  /** approved → executing, with the job for the secret's workspace/environment and the type's capability. */
  private async startExecution(row: RequestRow): Promise<RequestRow> {
    const type = this.types.get(row.type)!;
    const secret = await this.secrets.findInTenant(row.tenant_id, row.secret_id!);
    const patchWrap = type.key === 'secret.patch' ? (await this.repo.listWraps(row.tenant_id, row.id, 'patch'))[0] : undefined;
    const job = await this.jobs.enqueue({
      tenantId: row.tenant_id,
      type: type.jobType,
      workspaceId: row.workspace_id,
      environmentId: row.environment_id,
      capability: capabilityForProvider(secret!.provider),
      requiresPublicKey: type.requiresPublicKey,
      payload: { secret: { id: secret!.id, provider: secret!.provider, cluster_name: secret!.cluster_name, ref: secret!.ref }, ...(patchWrap ? { wrap_id: patchWrap.id } : {}) },
      owner: { type: 'request', id: row.id },
    });
    const updated = await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, 'execute'), job_id: job.id });
    await this.audit.record({ action: 'request.execution_started', resourceType: 'request', resourceId: row.id, tenantId: row.tenant_id, payload: { job_id: job.id, job_type: job.type } });
    return updated;
  }

  /** The request follows its job: succeeded → completed; failed or dead → failed. Inside the job's transaction. */
  private async followJob(job: JobRow): Promise<void> {
    const row = await this.repo.lock(job.tenant_id, job.owner_id!);
    if (!row || row.job_id !== job.id) return;
    const action: RequestAction = job.status === 'succeeded' ? 'complete' : 'fail';
    if (!can(row.status, action)) return;
    await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, action), completed_at: new Date() });
    await this.audit.record({
      action: action === 'complete' ? 'request.completed' : 'request.failed',
      resourceType: 'request',
      resourceId: row.id,
      tenantId: row.tenant_id,
      outcome: action === 'complete' ? 'success' : 'failure',
      payload: { job_id: job.id, job_status: job.status, error: job.error },
    });
  }

  /** Pending requests past `approval_timeout_seconds` → expired. One replica runs it (advisory lock). */
  async expireStale(): Promise<number> {
    return this.txHost.withTransaction(async () => {
      const rows = await this.repo.lockExpired(200);
      for (const row of rows) {
        await this.repo.update(row.tenant_id, row.id, { status: transition(row.status, 'expire'), decided_at: new Date() });
        await this.audit.record({ action: 'request.expired', resourceType: 'request', resourceId: row.id, tenantId: row.tenant_id, actor: { type: 'system', id: null, label: 'request-expiry' }, outcome: 'failure' });
      }
      return rows.length;
    });
  }

  // ---------------------------------------------------------------- reading

  async list(principal: Principal, query: ListRequestsQueryDto): Promise<Page<RequestDto>> {
    const page = toPageRequest(query);
    const sources = principal.type === 'user' ? await this.roles.grantSources(principal.tenantId, principal.id) : [];
    const rows = await this.repo.list(principal.tenantId, this.visibility(principal, sources), { requesterId: query.requester_id, status: query.status, type: query.type, workspaceId: query.workspace_id }, page);
    return toPage(rows, page, toRequestDto);
  }

  async inbox(principal: Principal, query: InboxQueryDto): Promise<Page<RequestDto>> {
    const page = toPageRequest(query);
    const sources = principal.type === 'user' ? await this.roles.grantSources(principal.tenantId, principal.id) : [];
    const rows = await this.repo.list(principal.tenantId, this.visibility(principal, sources), { workspaceId: query.workspace_id, inbox: true }, page);
    // SQL narrows by stage roles and scope; the permission check is exact here. The cursor stays on the SQL rows.
    const result = toPage(rows, page, (r) => r);
    const data = principal.type !== 'user' ? [] : result.data.filter((row) => !this.reasonFor(principal, sources, row, row.workflow!.stages[row.current_stage ?? 0])).map(toRequestDto);
    return { data, pagination: result.pagination };
  }

  async get(principal: Principal, id: string): Promise<RequestDetailDto> {
    return this.detail(principal, await this.findVisible(principal, id));
  }

  async approvers(principal: Principal, id: string): Promise<ApproversDto> {
    const row = await this.findVisible(principal, id);
    if (!awaitsApproval(row.status)) {
      return { stage: null, stage_name: null, required: 0, approved_by: [], remaining: 0, eligible: [], ineligible_reason_for_caller: `the request is ${row.status}` };
    }
    const index = row.current_stage ?? 0;
    const stage = row.workflow!.stages[index];
    const decisions = (await this.approvals.listForRequest(row.tenant_id, row.id)).filter((a) => a.stage === index);
    const tally = tallyStage(stage, decisions);
    const decided = new Set(decisions.map((d) => d.approver_id));
    const candidates = await this.roles.candidateApprovers(row.tenant_id, stage.approver_role_ids, stage.approver_user_ids);
    const eligible = candidates
      .filter((c) => !decided.has(c.userId) && ineligibility(stage, { userId: c.userId, assignments: c.assignments, holdsApprove: c.assignments.some((a) => a.permissions.includes('request.approve') && covers(a, scopeOf(row))) }, scopeOf(row), row.requester_id) === null)
      .map((c) => ({ user_id: c.userId, email: c.email }));
    let callerReason = await this.ineligibleReason(principal, row, stage);
    if (!callerReason && principal.id === row.requester_id) callerReason = 'you are the requester';
    if (!callerReason && decided.has(principal.id)) callerReason = 'you have already decided this stage';
    return { stage: index, stage_name: stage.name, required: stage.required_approvals, approved_by: tally.approvedBy, remaining: tally.remaining, eligible, ineligible_reason_for_caller: callerReason };
  }

  // ---------------------------------------------------------------- wraps

  async listWraps(principal: Principal, id: string, query: { limit?: number; cursor?: string }): Promise<Page<WrapSummaryDto>> {
    const row = await this.findVisible(principal, id);
    if (row.requester_id !== principal.id) throw new RequestNotFoundError(id);
    const page = toPageRequest(query);
    const rows = await this.repo.listWraps(row.tenant_id, row.id, 'read', page.after, page.limit + 1);
    return toPage(rows, page, (w) => ({ id: w.id, created_at: isoRequired(w.created_at), expires_at: iso(w.expires_at), consumed_at: iso(w.consumed_at) }));
  }

  /** The requester's single reveal: decrypt, return, and destroy the ciphertext in the transaction that consumes it. */
  @Transactional()
  async reveal(principal: Principal, id: string, wrapId: string): Promise<RevealedValueDto> {
    const row = await this.findVisible(principal, id);
    if (row.requester_id !== principal.id) throw new RequestNotFoundError(id);
    const wrap = await this.repo.lockWrap(principal.tenantId, wrapId);
    if (!wrap || wrap.request_id !== row.id || wrap.kind !== 'read') throw new WrapNotFoundError(wrapId);
    if (wrap.consumed_at) throw new WrapConsumedError();
    if (wrap.expires_at && wrap.expires_at.getTime() <= Date.now()) throw new WrapExpiredError();
    const dek = await this.kms.unwrap(wrap.wrapped_dek!, dekContext(wrap.tenant_id, wrap.dek_id!));
    const value = decryptWithDek(dek, { iv: fromB64(wrap.iv!), tag: fromB64(wrap.tag!), ciphertext: fromB64(wrap.ciphertext!) }).toString('utf8');
    dek.fill(0);
    await this.repo.consumeWrap(principal.tenantId, wrapId);
    await this.audit.record({ action: 'wrap.revealed', resourceType: 'wrap', resourceId: wrapId, payload: { request_id: row.id } });
    return { value };
  }

  /** Read flow: the agent posts the value encrypted under a DEK it was issued, for the job it holds. */
  @Transactional()
  async createReadWrap(principal: Principal, dto: CreateWrapDto): Promise<{ wrap_id: string }> {
    const job = await this.jobs.leasedBy(principal.tenantId, dto.job_id, principal.id);
    const row = job.owner_type === 'request' ? await this.repo.lock(principal.tenantId, job.owner_id!) : undefined;
    if (!row || row.type !== 'secret.read' || !can(row.status, 'complete')) throw new InvalidTargetError('This job does not carry a read request that is executing.');
    const wrappedDek = await this.agents.issuedDek(principal.tenantId, principal.id, dto.dek_id);
    const iv = this.b64(dto.iv, 'iv', 12);
    const tag = this.b64(dto.tag, 'tag', 16);
    const ciphertext = this.b64(dto.ciphertext, 'ciphertext');
    const wrap = await this.repo.insertWrap(principal.tenantId, {
      id: newId('wrap'),
      request_id: row.id,
      kind: 'read',
      dek_id: dto.dek_id,
      wrapped_dek: wrappedDek,
      iv: toB64(iv),
      tag: toB64(tag),
      ciphertext: toB64(ciphertext),
      agent_id: principal.id,
      expires_at: new Date(Date.now() + (row.access_duration_seconds ?? DEFAULT_ACCESS_SECONDS) * 1000),
    });
    await this.audit.record({ action: 'wrap.created', resourceType: 'wrap', resourceId: wrap.id, payload: { request_id: row.id, job_id: job.id } });
    return { wrap_id: wrap.id };
  }

  /** Patch flow: the requested value, sealed to the claiming agent's X25519 key, handed over once. */
  @Transactional()
  async deliverPatchWrap(principal: Principal, wrapId: string): Promise<SealedWrapDto> {
    const wrap = await this.repo.lockWrap(principal.tenantId, wrapId);
    if (!wrap || wrap.kind !== 'patch') throw new WrapNotFoundError(wrapId);
    const row = await this.repo.find(principal.tenantId, wrap.request_id);
    if (!row?.job_id) throw new WrapNotFoundError(wrapId);
    await this.jobs.leasedBy(principal.tenantId, row.job_id, principal.id);
    if (wrap.consumed_at) throw new WrapConsumedError();
    if (!principal.agent?.publicKey) throw new InvalidTargetError('Register an X25519 public key before taking patch jobs.');
    const value = await envelopeDecrypt(this.kms, { wrappedDek: wrap.wrapped_dek!, iv: fromB64(wrap.iv!), tag: fromB64(wrap.tag!), ciphertext: fromB64(wrap.ciphertext!) }, wrapContext(wrap.tenant_id, wrap.id));
    const sealed = sealToPublicKey(fromB64(principal.agent.publicKey, 32), value);
    value.fill(0);
    await this.repo.consumeWrap(principal.tenantId, wrapId);
    await this.audit.record({ action: 'wrap.delivered', resourceType: 'wrap', resourceId: wrapId, payload: { request_id: row.id, job_id: row.job_id } });
    return sealed;
  }

  // ---------------------------------------------------------------- helpers

  private async sealPatchValue(row: RequestRow, value: string): Promise<void> {
    const wrapId = newId('wrap');
    const envelope = await envelopeEncrypt(this.kms, Buffer.from(value, 'utf8'), wrapContext(row.tenant_id, wrapId));
    await this.repo.insertWrap(row.tenant_id, {
      id: wrapId,
      request_id: row.id,
      kind: 'patch',
      dek_id: null,
      wrapped_dek: envelope.wrappedDek,
      iv: toB64(envelope.iv),
      tag: toB64(envelope.tag),
      ciphertext: toB64(envelope.ciphertext),
      agent_id: null,
      expires_at: null,
    });
  }

  private b64(value: string, field: string, length?: number): Buffer {
    try {
      return fromB64(value, length);
    } catch {
      throw new RequestFieldError(field, length ? `must be ${length} bytes, base64-encoded` : 'must be base64');
    }
  }

  private step(status: RequestStatus, action: RequestAction): RequestStatus {
    try {
      return transition(status, action);
    } catch (e) {
      if (e instanceof InvalidTransition) throw new InvalidStateTransitionError(e);
      throw e;
    }
  }

  private assertRequester(principal: Principal): void {
    if (principal.type !== 'user') throw new AppError(403, 'PERMISSION_DENIED', 'Requests are made by users.', [{ permission: 'request.create' }]);
  }

  private async secretFor(principal: Principal, secretId: string): Promise<SecretRow> {
    const secret = await this.secrets.findInTenant(principal.tenantId, secretId);
    if (!secret || secret.status === 'removed') throw new InvalidTargetError(`Secret ${secretId} is not in the inventory.`, [{ field: 'secret_id', issue: 'unknown or removed secret' }]);
    return secret;
  }

  /** Why the caller cannot decide this stage now (null = eligible). */
  private async ineligibleReason(principal: Principal, row: RequestRow, stage: StageDefinition): Promise<string | null> {
    if (principal.type !== 'user') return 'only users approve';
    return this.reasonFor(principal, await this.roles.grantSources(row.tenant_id, principal.id), row, stage);
  }

  /** The same answer from already-loaded assignments (the inbox checks many rows with one lookup). */
  private reasonFor(principal: Principal, sources: GrantSource[], row: RequestRow, stage: StageDefinition): string | null {
    const reason = ineligibility(stage, { userId: principal.id, assignments: sources, holdsApprove: holds(principal, 'request.approve', { workspaceId: row.workspace_id, environmentId: row.environment_id }) }, scopeOf(row), row.requester_id);
    if (reason === 'requester') return null; // reported as SELF_APPROVAL_FORBIDDEN by the caller
    if (reason === 'missing_permission') return 'you do not hold request.approve at this request’s scope';
    if (reason === 'not_in_stage') return `stage "${stage.name}" needs one of its roles or users`;
    return null;
  }

  private visibility(principal: Principal, sources: GrantSource[]): Visibility {
    return {
      readAllWorkspaces: ((w) => (w === 'all' ? ['*'] : w))(workspacesWith(principal, 'request.read_all')),
      userId: principal.userId ?? principal.id,
      roleIds: sources.map((s) => s.role_id),
      scopeTypes: sources.map((s) => s.scope_type),
      scopeIds: sources.map((s) => s.scope_id),
    };
  }

  private async findVisible(principal: Principal, id: string): Promise<RequestRow> {
    const row = await this.repo.find(principal.tenantId, id);
    if (!row || !(await this.isVisible(principal, row))) throw new RequestNotFoundError(id);
    return row;
  }

  private async lockVisible(principal: Principal, id: string): Promise<RequestRow> {
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row || !(await this.isVisible(principal, row))) throw new RequestNotFoundError(id);
    return row;
  }

  private async isVisible(principal: Principal, row: RequestRow): Promise<boolean> {
    if (row.requester_id === (principal.userId ?? principal.id)) return true;
    if (holds(principal, 'request.read_all', { workspaceId: row.workspace_id, environmentId: row.environment_id })) return true;
    if (!awaitsApproval(row.status)) return false;
    return (await this.ineligibleReason(principal, row, row.workflow!.stages[row.current_stage ?? 0])) === null;
  }

  private async detail(principal: Principal, row: RequestRow): Promise<RequestDetailDto> {
    const approvals = await this.approvals.listForRequest(row.tenant_id, row.id);
    const timeline = await this.audit.timeline(row.tenant_id, 'request', row.id);
    return { ...toRequestDto(row), approvals: approvals.map(toApprovalDto), timeline };
  }
}

