import { Injectable, OnModuleInit } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { isoRequired } from '../../common/api/time';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { AuditService } from '../audit/audit.service';
import { RolesService } from '../roles/roles.service';
import { UsersService } from '../users/users.service';
import { GroupsService } from '../groups/groups.service';
import { CreateWorkflowDto, WorkflowDto } from './dto/workflow.dto';
import { WorkflowRow, WorkflowStage } from './workflow.entity';
import { ApproverGroupNotFoundError, BuiltInWorkflowError, StageWithoutApproversError, WorkflowInUseError, WorkflowNotFoundError } from './workflows.errors';
import { WorkflowsRepository } from './workflows.repository';
import { TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';

/** What a request keeps of its workflow at submit: later edits of the workflow do not change it. */
export interface WorkflowSnapshot {
  id: string;
  name: string;
  version: number;
  stages: { name: string; required_approvals: number; approver_role_ids: string[]; approver_user_ids: string[]; approver_group_ids: string[] }[];
  approval_timeout_seconds: number | null;
  auto_execute: boolean;
}

/** Answers whether something (a policy) still points at a workflow; registered by the modules that reference workflows. */
export type WorkflowUsageCheck = (tenantId: TenantId, workflowId: string) => Promise<boolean>;

/** SPEC §4: the tenant default is "one approval by a holder of the approver, admin or owner role". */
export const DEFAULT_WORKFLOW_ROLES = ['approver', 'admin', 'owner'];

const toStage = (s: WorkflowStage) => ({
  name: s.name,
  required_approvals: s.required_approvals,
  approver_role_ids: [...s.approver_role_ids],
  approver_user_ids: [...s.approver_user_ids],
  approver_group_ids: [...(s.approver_group_ids ?? [])],
});

const toWorkflowDto = (w: WorkflowRow): WorkflowDto => ({
  id: w.id,
  tenant_id: w.tenant_id,
  name: w.name,
  description: w.description,
  stages: w.stages.map(toStage),
  approval_timeout_seconds: w.approval_timeout_seconds,
  auto_execute: w.auto_execute,
  version: w.version,
  built_in: w.built_in,
  created_at: isoRequired(w.created_at),
  updated_at: isoRequired(w.updated_at),
});

const toSnapshot = (w: WorkflowRow): WorkflowSnapshot => ({
  id: w.id,
  name: w.name,
  version: w.version,
  stages: w.stages.map(toStage),
  approval_timeout_seconds: w.approval_timeout_seconds,
  auto_execute: w.auto_execute,
});

@Injectable()
export class WorkflowsService implements OnModuleInit {
  private readonly usageChecks: WorkflowUsageCheck[] = [];

  constructor(
    private readonly repo: WorkflowsRepository,
    private readonly roles: RolesService,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    // SPEC: deleting a group is 409 IN_USE while a workflow stage names it.
    this.groups.addUsage({ what: 'workflows', inUse: (tenantId, groupId) => this.repo.namesGroup(tenantId, groupId) });
  }

  /** Port for modules that reference workflows (policies), so this module does not depend on them. */
  addUsageCheck(fn: WorkflowUsageCheck): void {
    this.usageChecks.push(fn);
  }

  @Transactional()
  async create(principal: Principal, dto: CreateWorkflowDto): Promise<WorkflowDto> {
    requireTenantPermission(principal, 'workflow.edit');
    const definition = await this.definition(principal.tenantId, dto);
    const row = await this.repo.insert(principal.tenantId, { id: newId('workflow'), ...definition, created_by: principal.userId ?? null });
    await this.audit.record({ action: 'workflow.created', resourceType: 'workflow', resourceId: row.id, payload: { name: row.name, version: row.version, stages: row.stages.length } });
    return toWorkflowDto(row);
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<WorkflowDto>> {
    requireTenantPermission(principal, 'workflow.read');
    // The default is listed like any other workflow, so make sure it exists before the first page is read.
    await this.defaultWorkflow(principal.tenantId);
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, page), page, toWorkflowDto);
  }

  async get(principal: Principal, id: string): Promise<WorkflowDto> {
    requireTenantPermission(principal, 'workflow.read');
    const row = await this.find(principal.tenantId, id);
    return toWorkflowDto(row);
  }

  @Transactional()
  async replace(principal: Principal, id: string, dto: CreateWorkflowDto): Promise<WorkflowDto> {
    requireTenantPermission(principal, 'workflow.edit');
    const current = await this.repo.findForUpdate(principal.tenantId, id);
    if (!current) throw new WorkflowNotFoundError(id);
    if (current.built_in) throw new BuiltInWorkflowError();
    const definition = await this.definition(principal.tenantId, dto);
    const row = await this.repo.replace(principal.tenantId, id, definition);
    if (!row) throw new WorkflowNotFoundError(id);
    await this.audit.record({ action: 'workflow.updated', resourceType: 'workflow', resourceId: id, payload: { name: row.name, version: row.version, previous_version: current.version } });
    return toWorkflowDto(row);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'workflow.edit');
    const current = await this.repo.findForUpdate(principal.tenantId, id);
    if (!current) throw new WorkflowNotFoundError(id);
    if (current.built_in) throw new BuiltInWorkflowError();
    for (const inUse of this.usageChecks) {
      if (await inUse(principal.tenantId, id)) throw new WorkflowInUseError();
    }
    await this.repo.delete(principal.tenantId, id);
    await this.audit.record({ action: 'workflow.deleted', resourceType: 'workflow', resourceId: id, payload: { name: current.name, version: current.version } });
  }

  /** The workflow as a request keeps it (404 when it is not in the tenant). */
  async snapshot(tenantId: TenantId, workflowId: string): Promise<WorkflowSnapshot> {
    return toSnapshot(await this.find(tenantId, workflowId));
  }

  /** The tenant's built-in default workflow, created on first use (idempotent under concurrency). */
  async defaultWorkflow(tenantId: TenantId): Promise<WorkflowSnapshot> {
    const existing = await this.repo.findBuiltIn(tenantId);
    if (existing) return toSnapshot(existing);
    const roleIds = await this.roles.builtInRoleIds(tenantId, DEFAULT_WORKFLOW_ROLES);
    const inserted = await this.repo.insertBuiltIn(tenantId, {
      id: newId('workflow'),
      name: 'Default approval',
      description: 'One approval by a holder of the approver, admin or owner role (used when no policy matches).',
      stages: [{ name: 'approval', required_approvals: 1, approver_role_ids: roleIds, approver_user_ids: [], approver_group_ids: [] }],
      approval_timeout_seconds: null,
      auto_execute: true,
    });
    if (inserted) {
      await this.audit.record({
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceId: inserted.id,
        tenantId,
        actor: { type: 'system', id: null, label: 'default workflow' },
        payload: { name: inserted.name, built_in: true },
      });
      return toSnapshot(inserted);
    }
    // Another caller created it between our read and our insert.
    return toSnapshot(required(await this.repo.findBuiltIn(tenantId), `built-in workflow of ${tenantId} (its insert conflicted)`));
  }

  private async find(tenantId: TenantId, id: string): Promise<WorkflowRow> {
    const row = await this.repo.find(tenantId, id);
    if (!row) throw new WorkflowNotFoundError(id);
    return row;
  }

  /** Normalises the body and checks that every approver role, user and group is in the tenant (404 naming them otherwise). */
  private async definition(tenantId: TenantId, dto: CreateWorkflowDto) {
    const stages = dto.stages.map((s, index) => {
      const stage = {
        name: s.name,
        required_approvals: s.required_approvals,
        approver_role_ids: [...new Set(s.approver_role_ids ?? [])],
        approver_user_ids: [...new Set(s.approver_user_ids ?? [])],
        approver_group_ids: [...new Set(s.approver_group_ids ?? [])],
      };
      if (!stage.approver_role_ids.length && !stage.approver_user_ids.length && !stage.approver_group_ids.length) throw new StageWithoutApproversError(index);
      return stage;
    }) satisfies WorkflowStage[];
    await this.roles.assertRoles(tenantId, stages.flatMap((s) => s.approver_role_ids));
    for (const userId of new Set(stages.flatMap((s) => s.approver_user_ids))) await this.users.assertMember(tenantId, userId);
    const groups = await this.groups.describe(tenantId, stages.flatMap((s) => s.approver_group_ids));
    for (const [index, s] of stages.entries()) {
      const missing = s.approver_group_ids.filter((id) => !groups.has(id));
      if (missing.length) throw new ApproverGroupNotFoundError(index, missing);
    }
    return {
      name: dto.name,
      description: dto.description ?? '',
      stages,
      approval_timeout_seconds: dto.approval_timeout_seconds ?? null,
      auto_execute: dto.auto_execute ?? true,
    };
  }
}
