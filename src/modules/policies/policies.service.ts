import { Injectable, OnModuleInit } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { isoRequired } from '../../common/api/time';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';

import { AuditService } from '../audit/audit.service';
import { SecretsService } from '../secrets/secrets.service';
import { WorkflowsService } from '../workflows/workflows.service';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { CreatePolicyDto, EvaluatePolicyDto, PolicyDecisionDto, PolicyDto } from './dto/policy.dto';
import { ConditionCompileError, PolicyFieldError, PolicyNotFoundError } from './policies.errors';
import { PoliciesRepository } from './policies.repository';
import { PolicyRow } from './policy.entity';
import { CompiledCondition, CompiledPolicy, compileCondition, decide, PolicyDecision, PolicyInput, PolicyMatch } from './policy-engine';
import { PolicyInputBuilder } from './policy-input.builder';
import { TenantId } from '../../common/db/tenant-id';
import { EnvironmentNotFoundError, WorkspaceNotFoundError } from '../workspaces/workspaces.errors';

const MAX_MATCH_LABELS = 50;
/**
 * Compiled programs kept per process, by condition text (a program depends on nothing else); beyond this the cache starts
 * over (it bounds memory). Saving a policy puts its program here, so requests do not pay for parsing a large condition.
 */
const MAX_CACHED_PROGRAMS = 10_000;

const toPolicyDto = (p: PolicyRow): PolicyDto => ({
  id: p.id,
  tenant_id: p.tenant_id,
  name: p.name,
  priority: p.priority,
  effect: p.effect,
  workflow_id: p.workflow_id,
  match: p.match,
  condition: p.condition,
  enabled: p.enabled,
  created_at: isoRequired(p.created_at),
  updated_at: isoRequired(p.updated_at),
});

@Injectable()
export class PoliciesService implements OnModuleInit {
  private readonly programs = new Map<string, CompiledCondition>();

  constructor(
    private readonly repo: PoliciesRepository,
    private readonly workflows: WorkflowsService,
    private readonly workspaces: WorkspacesService,
    private readonly secrets: SecretsService,
    private readonly inputs: PolicyInputBuilder,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.workflows.addUsageCheck((tenantId, workflowId) => this.repo.workflowInUse(tenantId, workflowId));
  }

  @Transactional()
  async create(principal: Principal, dto: CreatePolicyDto): Promise<PolicyDto> {
    requireTenantPermission(principal, 'policy.edit');
    const definition = await this.definition(principal.tenantId, dto);
    const row = await this.repo.insert(principal.tenantId, { id: newId('policy'), ...definition, created_by: principal.userId ?? null });
    await this.audit.record({ action: 'policy.created', resourceType: 'policy', resourceId: row.id, payload: { ...definition } });
    return toPolicyDto(row);
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<PolicyDto>> {
    requireTenantPermission(principal, 'policy.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, page), page, toPolicyDto);
  }

  async get(principal: Principal, id: string): Promise<PolicyDto> {
    requireTenantPermission(principal, 'policy.read');
    const row = await this.find(principal.tenantId, id);
    return toPolicyDto(row);
  }

  @Transactional()
  async replace(principal: Principal, id: string, dto: CreatePolicyDto): Promise<PolicyDto> {
    requireTenantPermission(principal, 'policy.edit');
    const current = await this.find(principal.tenantId, id);
    const definition = await this.definition(principal.tenantId, dto);
    const row = await this.repo.replace(principal.tenantId, id, definition);
    if (!row) throw new PolicyNotFoundError(id);
    await this.audit.record({ action: 'policy.updated', resourceType: 'policy', resourceId: id, payload: { before: this.definitionOf(current), after: { ...definition } } });
    return toPolicyDto(row);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'policy.edit');
    await this.find(principal.tenantId, id);
    const row = await this.repo.delete(principal.tenantId, id);
    if (!row) throw new PolicyNotFoundError(id);
    await this.audit.record({ action: 'policy.deleted', resourceType: 'policy', resourceId: id, payload: { name: row.name, effect: row.effect, priority: row.priority } });
  }

  /** The decision for a request (SPEC §4): `workflow_id: null` with `require_approval` means the tenant default. */
  async decide(tenantId: TenantId, input: PolicyInput): Promise<PolicyDecision> {
    const rows = await this.repo.listEnabled(tenantId);
    return decide(rows.map((r) => this.compiled(r)), input);
  }

  /** Dry run of a request body: the decision and every policy considered, with the default workflow resolved. */
  async evaluate(principal: Principal, dto: EvaluatePolicyDto): Promise<PolicyDecisionDto> {
    requireTenantPermission(principal, 'policy.read');
    const tenantId = principal.tenantId;
    let source: Parameters<PolicyInputBuilder['build']>[1];
    const accessDurationSeconds = dto.access_duration_seconds ?? null;
    if (dto.secret_id) {
      const secret = await this.secrets.readable(principal, dto.secret_id);
      source = { type: dto.type, secret, workspaceId: secret.workspace_id, environmentId: secret.environment_id, accessDurationSeconds };
    } else {
      if (!dto.workspace_id) throw new PolicyFieldError('workspace_id', 'is required without secret_id');
      if (!(await this.workspaces.resolveScope(tenantId, 'workspace', dto.workspace_id))) throw new WorkspaceNotFoundError(dto.workspace_id);
      if (dto.environment_id) {
        const env = await this.workspaces.resolveScope(tenantId, 'environment', dto.environment_id);
        if (!env || env.workspaceId !== dto.workspace_id) throw new EnvironmentNotFoundError(dto.environment_id);
      }
      source = { type: dto.type, secret: null, target: dto.target ?? null, workspaceId: dto.workspace_id, environmentId: dto.environment_id ?? null, accessDurationSeconds };
    }
    const decision = await this.decide(tenantId, await this.inputs.build(principal, source));
    const workflowId = decision.effect === 'require_approval' ? (decision.workflow_id ?? (await this.workflows.defaultWorkflow(tenantId)).id) : null;
    return { effect: decision.effect, policy_id: decision.policy_id, workflow_id: workflowId, explanation: decision.explanation };
  }

  private async find(tenantId: TenantId, id: string): Promise<PolicyRow> {
    const row = await this.repo.find(tenantId, id);
    if (!row) throw new PolicyNotFoundError(id);
    return row;
  }

  /** The policy with its condition compiled (the cached program when there is one). */
  private compiled(row: PolicyRow): CompiledPolicy {
    let condition: CompiledCondition | null = null;
    if (row.condition !== null) {
      condition = this.programs.get(row.condition) ?? null;
      if (!condition) {
        const result = compileCondition(row.condition);
        // A stored condition that no longer compiles (e.g. saved before conditions were type-checked) is an evaluation
        // error: it fails closed like any other, and the explanation gives the checker's message.
        condition = 'condition' in result ? result.condition : { source: row.condition, evaluate: () => ({ error: result.error }) };
        this.remember(condition);
      }
    }
    return { id: row.id, name: row.name, priority: row.priority, effect: row.effect, workflow_id: row.workflow_id, enabled: row.enabled, match: row.match, condition };
  }

  private remember(condition: CompiledCondition): void {
    if (this.programs.size >= MAX_CACHED_PROGRAMS) this.programs.clear();
    this.programs.set(condition.source, condition);
  }

  private definitionOf(row: PolicyRow) {
    return { name: row.name, priority: row.priority, effect: row.effect, workflow_id: row.workflow_id, match: row.match, condition: row.condition, enabled: row.enabled };
  }

  /** Validates and normalises a body: workflow iff require_approval, known workspaces/environments, labels, the condition compiles. */
  private async definition(tenantId: TenantId, dto: CreatePolicyDto) {
    const workflowId = dto.workflow_id ?? null;
    if (dto.effect === 'require_approval' && !workflowId) throw new PolicyFieldError('workflow_id', 'is required when effect is require_approval');
    if (dto.effect !== 'require_approval' && workflowId) throw new PolicyFieldError('workflow_id', 'must be absent unless effect is require_approval');
    const match: PolicyMatch = {
      request_types: [...new Set(dto.match?.request_types ?? [])],
      workspace_ids: [...new Set(dto.match?.workspace_ids ?? [])],
      environment_ids: [...new Set(dto.match?.environment_ids ?? [])],
      secret_labels: {},
    };
    const labels = Object.entries(dto.match?.secret_labels ?? {});
    if (labels.length > MAX_MATCH_LABELS) throw new PolicyFieldError('match.secret_labels', `at most ${MAX_MATCH_LABELS} labels`);
    for (const [key, value] of labels) {
      if (typeof value !== 'string' || key.length < 1 || key.length > 100 || value.length > 500) {
        throw new PolicyFieldError(`match.secret_labels.${key}`, 'labels are string keys (1–100) to string values (≤ 500)');
      }
      match.secret_labels[key] = value;
    }
    let condition: string | null = null;
    if (dto.condition !== undefined && dto.condition !== null) {
      const compiled = compileCondition(dto.condition, { trial: true });
      if ('error' in compiled) throw new ConditionCompileError(compiled.error);
      this.remember(compiled.condition);
      condition = dto.condition;
    }
    if (workflowId) await this.workflows.snapshot(tenantId, workflowId);
    for (const id of match.workspace_ids) {
      if (!(await this.workspaces.resolveScope(tenantId, 'workspace', id))) throw new WorkspaceNotFoundError(id);
    }
    for (const id of match.environment_ids) {
      if (!(await this.workspaces.resolveScope(tenantId, 'environment', id))) throw new EnvironmentNotFoundError(id);
    }
    return { name: dto.name, priority: dto.priority, effect: dto.effect, workflow_id: workflowId, match, condition, enabled: dto.enabled ?? true };
  }
}
