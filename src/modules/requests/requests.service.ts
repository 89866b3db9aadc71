import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page } from '../../common/api/pagination';
import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { Principal, requireDeclaredPermission, requirePermission } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';

import { ApprovalEligibilityService } from '../approvals/approval-eligibility.service';
import { tallyStage } from '../approvals/approval-rules';
import { ApprovalsService } from '../approvals/approvals.service';
import { AuditService } from '../audit/audit.service';
import { SecretsService } from '../secrets/secrets.service';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { ApproversDto, CreateReadRequestDto, CreateRequestDto, InboxQueryDto, ListRequestsQueryDto, RequestDetailDto, RequestDto } from './dto/request.dto';
import { RequestDetailsService, toRequestDto } from './request-details.service';
import { awaitsApproval, IN_FLIGHT_STATUSES, RequestStatus } from './request-lifecycle';
import { RequestTransitionsService } from './request-transitions.service';
import { RequestTypeDefinition, RequestTypeRegistry } from './request-types';
import { InvalidTargetError, RequestFieldError, RequesterNotUserError } from './requests.errors';
import { RequestsRepository } from './requests.repository';
import { decidable, RequestVisibilityService } from './request-visibility.service';
import { DEFAULT_ACCESS_SECONDS, WrapsService } from './wraps.service';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';
import { scopeNotFound } from '../workspaces/workspaces.errors';

interface RequestWhere {
  workspaceId: string;
  environmentId: string | null;
  secretId: string | null;
}

/** A disabled plugin's types take no new requests (those in flight finish). */
function assertTypeApplies(type: RequestTypeDefinition): void {
  if (type.plugin && !type.plugin.enabled) {
    throw new InvalidTargetError(`${type.key} belongs to plugin ${type.plugin.manifestId}, which is disabled in this tenant.`, [{ field: 'type', issue: `plugin ${type.plugin.manifestId} is disabled` }]);
  }
}

/**
 * Requests as objects: created (a patch value envelope-encrypted at once) and submitted to the policies, listed and
 * read by those who may see them. Moving them afterwards is `RequestTransitionsService`'s job.
 */
/** Requests whose job is running: their workspace cannot be deleted under them. */
const EXECUTING_STATUSES: readonly RequestStatus[] = ['executing'];

@Injectable()
export class RequestsService {
  constructor(
    private readonly repo: RequestsRepository,
    private readonly types: RequestTypeRegistry,
    private readonly transitions: RequestTransitionsService,
    private readonly visibility: RequestVisibilityService,
    private readonly eligibility: ApprovalEligibilityService,
    private readonly approvals: ApprovalsService,
    private readonly details: RequestDetailsService,
    private readonly wraps: WrapsService,
    private readonly secrets: SecretsService,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
  ) {
    // SPEC: a workspace cannot be deleted while requests of it are executing; an environment while any is in flight.
    workspaces.addScopeDependents({
      what: 'requests',
      blocksDeletion: (tenantId, scope) =>
        scope.type === 'workspace'
          ? this.repo.existsInScope(tenantId, { column: 'workspace_id', id: scope.id }, EXECUTING_STATUSES)
          : this.repo.existsInScope(tenantId, { column: 'environment_id', id: scope.id }, IN_FLIGHT_STATUSES),
    });
  }

  @Transactional()
  async create(principal: Principal, dto: CreateRequestDto): Promise<RequestDetailDto> {
    const type = await this.types.find(principal.tenantId, dto.type);
    if (!type) throw new RequestFieldError('type', `unknown request type; known: ${(await this.types.keys(principal.tenantId)).join(', ')}`);
    assertTypeApplies(type);
    if (type.value === 'required' && dto.value === undefined) throw new RequestFieldError('value', `is required for ${type.key}`);
    if (type.value === 'forbidden' && dto.value !== undefined) throw new RequestFieldError('value', `is only accepted for secret.patch`);
    if (type.needsSecret && !dto.secret_id) throw new RequestFieldError('secret_id', `is required for ${type.key}`);
    if (type.needsSecret && dto.target !== undefined) throw new InvalidTargetError(`${type.key} takes a secret_id, not a target`);
    if (!type.needsSecret && dto.secret_id !== undefined) throw new RequestFieldError('secret_id', `${type.key} takes a target, not a secret_id`);
    this.assertRequester(principal);

    const where = type.needsSecret && dto.secret_id ? await this.secretScope(principal, dto.secret_id) : await this.targetScope(principal, type, dto);
    requirePermission(principal, 'request.create', { workspaceId: where.workspaceId, environmentId: where.environmentId });
    if (type.requiredPermission) requireDeclaredPermission(principal, type.requiredPermission, { workspaceId: where.workspaceId, environmentId: where.environmentId });
    if (type.validateTarget) {
      const issues = type.validateTarget(dto.target);
      if (issues.length) throw new InvalidTargetError(`The target does not match the schema of ${type.key}.`, issues);
    }

    const row = await this.repo.insert(principal.tenantId, {
      id: newId('request'),
      type: type.key,
      title: dto.title,
      reason: dto.reason,
      status: 'draft',
      requester_id: principal.id,
      workspace_id: where.workspaceId,
      environment_id: where.environmentId,
      secret_id: where.secretId,
      target: type.needsSecret ? null : (dto.target ?? null),
      access_duration_seconds: type.key === 'secret.read' ? (dto.access_duration_seconds ?? DEFAULT_ACCESS_SECONDS) : (dto.access_duration_seconds ?? null),
    });
    if (dto.value !== undefined) await this.wraps.sealPatchValue(row, dto.value);
    await this.audit.record({
      action: 'request.created',
      resourceType: 'request',
      resourceId: row.id,
      payload: { type: row.type, secret_id: row.secret_id, workspace_id: row.workspace_id, ...(type.plugin ? { plugin_id: type.plugin.id, target: row.target } : {}) },
    });
    const final = dto.submit === false ? row : await this.transitions.submitLocked(principal, row);
    return this.details.detail(final);
  }

  createRead(principal: Principal, dto: CreateReadRequestDto): Promise<RequestDetailDto> {
    return this.create(principal, { type: 'secret.read', title: 'Read secret', reason: dto.reason, secret_id: dto.secret_id, access_duration_seconds: dto.access_duration_seconds, submit: dto.submit });
  }

  @Transactional()
  async submit(principal: Principal, id: string): Promise<RequestDetailDto> {
    const row = await this.visibility.lock(principal, id);
    if (row.requester_id !== principal.id) throw new PermissionDeniedError('request.create', 'Only the requester can submit a draft.');
    const type = await this.types.find(asTenantId(row.tenant_id), row.type);
    if (!type) throw new RequestFieldError('type', `${row.type} is no longer a request type of this tenant`);
    assertTypeApplies(type);
    return this.details.detail(await this.transitions.submitLocked(principal, row));
  }

  async list(principal: Principal, query: ListRequestsQueryDto): Promise<Page<RequestDto>> {
    const page = await this.visibility.list(principal, query);
    return { data: page.data.map(toRequestDto), pagination: page.pagination };
  }

  async inbox(principal: Principal, query: InboxQueryDto): Promise<Page<RequestDto>> {
    const page = await this.visibility.inbox(principal, query);
    return { data: page.data.map(toRequestDto), pagination: page.pagination };
  }

  async get(principal: Principal, id: string): Promise<RequestDetailDto> {
    return this.details.detail(await this.visibility.find(principal, id));
  }

  /** What the request waits for: the stage, who approved, who still can, and why the caller can or cannot. */
  async approvers(principal: Principal, id: string): Promise<ApproversDto> {
    const row = await this.visibility.find(principal, id);
    if (!awaitsApproval(row.status)) {
      return { stage: null, stage_name: null, required: 0, approved_by: [], remaining: 0, eligible: [], ineligible_reason_for_caller: `the request is ${row.status}` };
    }
    const index = row.current_stage ?? 0;
    const stage = required(row.workflow, `workflow snapshot of request ${row.id} awaiting approval`).stages[index];
    const decisions = (await this.approvals.listForRequest(asTenantId(row.tenant_id), row.id)).filter((a) => a.stage === index);
    const tally = tallyStage(stage, decisions);
    const decided = new Set(decisions.map((d) => d.approver_id));
    const eligible = await this.eligibility.eligibleApprovers(decidable(row), stage, decided);
    let callerReason = await this.eligibility.reason(principal, decidable(row), stage);
    if (!callerReason && principal.id === row.requester_id) callerReason = 'you are the requester';
    if (!callerReason && decided.has(principal.id)) callerReason = 'you have already decided this stage';
    return { stage: index, stage_name: stage.name, required: stage.required_approvals, approved_by: tally.approvedBy, remaining: tally.remaining, eligible, ineligible_reason_for_caller: callerReason };
  }

  /** How many requests of these types are still under way in the tenant (a plugin is not removed under them). */
  countInFlight(tenantId: TenantId, types: string[]): Promise<number> {
    return this.repo.countInFlight(tenantId, types, IN_FLIGHT_STATUSES);
  }

  private assertRequester(principal: Principal): void {
    if (principal.type !== 'user') throw new RequesterNotUserError();
  }

  /** Built-in types: the inventory secret decides the workspace and environment. */
  private async secretScope(principal: Principal, secretId: string): Promise<RequestWhere> {
    const secret = await this.secrets.findInTenant(principal.tenantId, secretId);
    if (!secret || secret.status === 'removed') throw new InvalidTargetError(`Secret ${secretId} is not in the inventory.`, [{ field: 'secret_id', issue: 'unknown or removed secret' }]);
    return { workspaceId: secret.workspace_id, environmentId: secret.environment_id, secretId: secret.id };
  }

  /** Plugin types: an explicit workspace (and optional environment of it) of the tenant. */
  private async targetScope(principal: Principal, type: RequestTypeDefinition, dto: CreateRequestDto): Promise<RequestWhere> {
    if (!dto.workspace_id) throw new RequestFieldError('workspace_id', `is required for ${type.key}`);
    const ref = await this.workspaces.resolveScope(principal.tenantId, dto.environment_id ? 'environment' : 'workspace', dto.environment_id ?? dto.workspace_id);
    if (!ref || ref.workspaceId !== dto.workspace_id) throw scopeNotFound(dto.workspace_id, dto.environment_id);
    return { workspaceId: ref.workspaceId, environmentId: ref.environmentId, secretId: null };
  }
}
