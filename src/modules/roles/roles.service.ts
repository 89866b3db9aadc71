import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { isoRequired } from '../../common/api/time';
import { PrivilegeEscalationError } from '../../common/auth/auth.errors';
import { notHeldAt, TargetScope } from '../../common/auth/escalation';
import { BUILT_IN_ROLES } from '../../common/auth/permission-catalog';
import { Grant, Principal, requirePermission, requireTenantPermission, toGrants } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { UsersService } from '../users/users.service';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { CreateRoleDto, CreateUserRoleDto, ListUserRolesQueryDto, PermissionDto, ReplaceRolePermissionsDto, RoleDto, UserRoleDto } from './dto/role.dto';
import { RoleRow, UserRoleRow } from './role.entity';
import {
  AssigneeGroupNotFoundError,
  AssignmentExistsError,
  AssignmentNotFoundError,
  AssigneeRequiredError,
  OwnerToGroupError,
  BuiltInRoleError,
  RoleInUseError,
  RoleNameTakenError,
  RoleNotFoundError,
  UnknownPermissionError,
} from './roles.errors';
import { RolesRepository } from './roles.repository';
import { PermissionCatalogService } from './permission-catalog.service';
import { AuditService } from '../audit/audit.service';

import { TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';
import { EnvironmentNotFoundError, WorkspaceNotFoundError } from '../workspaces/workspaces.errors';
import { TenantNotFoundError } from '../tenants/tenants.errors';

const toRoleDto = (r: RoleRow): RoleDto => ({
  id: r.id,
  tenant_id: r.tenant_id,
  name: r.name,
  description: r.description,
  permissions: r.permissions,
  built_in: r.built_in,
  created_at: isoRequired(r.created_at),
  updated_at: isoRequired(r.updated_at),
});

const toUserRoleDto = (a: UserRoleRow): UserRoleDto => ({
  id: a.id,
  tenant_id: a.tenant_id,
  user_id: a.user_id,
  group_id: a.group_id,
  group_name: a.group_id ? (a.group_name ?? null) : null,
  role_id: a.role_id,
  role_name: a.role_name ?? '',
  scope_type: a.scope_type,
  scope_id: a.scope_id,
  created_by: a.created_by,
  created_at: isoRequired(a.created_at),
});

/** Exactly one of `user_id` and `group_id` (400 naming the field otherwise). */
function assigneeOf(dto: CreateUserRoleDto): { kind: 'user' | 'group'; id: string } {
  if (dto.user_id !== undefined && dto.group_id !== undefined) throw new AssigneeRequiredError('group_id', 'give either user_id or group_id, not both');
  if (dto.user_id !== undefined) return { kind: 'user', id: dto.user_id };
  if (dto.group_id !== undefined) return { kind: 'group', id: dto.group_id };
  throw new AssigneeRequiredError('user_id', 'user_id or group_id is required');
}

export interface GrantSource {
  assignment_id: string;
  role_id: string;
  role_name: string;
  scope_type: string;
  scope_id: string;
  permissions: string[];
  /** The group the assignment reaches the user through (null: assigned to the user). */
  group_id: string | null;
  group_name: string | null;
}

/** A user who could approve a stage, with what they hold (own and through groups) and which stage groups they are in. */
export interface ApproverCandidate {
  userId: string;
  email: string;
  /** Those of the stage's groups the user is a member of. */
  groupIds: string[];
  assignments: { role_id: string; scope_type: string; scope_id: string; permissions: string[]; group_id: string | null }[];
}

@Injectable()
export class RolesService {
  constructor(
    private readonly repo: RolesRepository,
    private readonly users: UsersService,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
    private readonly catalog: PermissionCatalogService,
  ) {}

  /** The tenant's permission catalog: core, and its enabled plugins' (`source: "plugin:<id>"`). */
  permissions(principal: Principal): Promise<PermissionDto[]> {
    return this.catalog.list(principal.tenantId);
  }

  /** The built-in roles of a new tenant (same transaction as the tenant). Returns their ids by name. */
  async createBuiltIns(tenantId: TenantId): Promise<Record<string, string>> {
    const ids: Record<string, string> = {};
    for (const role of BUILT_IN_ROLES) {
      const row = await this.repo.insert(tenantId, { id: newId('role'), name: role.name, description: role.description, permissions: role.permissions, built_in: true });
      ids[role.name] = required(row, `built-in role ${role.name} of the new tenant ${tenantId}`).id;
    }
    return ids;
  }

  /** Gives a user a role at tenant scope without a caller (tenant bootstrap: setup, tenant creation). */
  async assignSystem(tenantId: TenantId, userId: string, roleId: string): Promise<void> {
    await this.repo.insertAssignment(tenantId, { id: newId('userRole'), user_id: userId, role_id: roleId, scope_type: 'tenant', scope_id: tenantId, created_by: null });
  }

  /** What the user holds now: plugin permissions count only while their plugin is enabled in the tenant. */
  async grantsFor(tenantId: TenantId, userId: string): Promise<Grant[]> {
    const rows = await this.repo.grantRows(tenantId, userId);
    const extra = new Set(this.catalog.needsExtraKeys(rows) ? await this.catalog.extraKeys(tenantId) : []);
    return toGrants(rows.map((r) => ({ permissions: this.catalog.effective(r, extra), scopeType: r.scope_type, scopeId: r.scope_id })));
  }

  /**
   * Users who could approve a stage (its roles anywhere, own or through a group; listed; or members of its groups), with
   * their assignments; eligibility is decided by the caller.
   */
  async candidateApprovers(tenantId: TenantId, stage: { roleIds: string[]; userIds: string[]; groupIds: string[] }): Promise<ApproverCandidate[]> {
    const rows = await this.repo.candidateAssignments(tenantId, stage.roleIds, stage.userIds, stage.groupIds);
    const byUser = new Map<string, ApproverCandidate>();
    for (const r of rows) {
      let candidate = byUser.get(r.user_id);
      if (!candidate) byUser.set(r.user_id, (candidate = { userId: r.user_id, email: r.email, groupIds: r.in_groups, assignments: [] }));
      // LEFT JOIN: a listed user without any assignment has a row of nulls.
      if (r.role_id !== null && r.scope_type !== null && r.scope_id !== null) {
        candidate.assignments.push({ role_id: r.role_id, scope_type: r.scope_type, scope_id: r.scope_id, permissions: r.permissions ?? [], group_id: r.group_id });
      }
    }
    return [...byUser.values()];
  }

  /** The assignments behind a user's grants (own and through groups, naming the group), for explanations. */
  grantSources(tenantId: TenantId, userId: string): Promise<GrantSource[]> {
    return this.repo.grantRows(tenantId, userId);
  }

  /** 404 NOT_FOUND naming every id of `ids` that is not a role of the tenant. */
  async assertRoles(tenantId: TenantId, ids: string[]): Promise<void> {
    const unique = [...new Set(ids)];
    if (!unique.length) return;
    const found = new Set((await this.repo.existingIds(tenantId, unique)).map((r) => r.id));
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length) throw new RoleNotFoundError(missing.join(', '));
  }

  /** The ids of the tenant's built-in roles with these names, in the order of `names` (absent names are skipped). */
  async builtInRoleIds(tenantId: TenantId, names: string[]): Promise<string[]> {
    const rows = await this.repo.builtInsByName(tenantId, names);
    return names.map((n) => rows.find((r) => r.name === n)?.id).filter((id): id is string => id !== undefined);
  }

  /** Names of the roles a user holds in the tenant at any scope (policy input `requester.roles`). */
  async roleNamesOf(tenantId: TenantId, userId: string): Promise<string[]> {
    const rows = await this.repo.grantRows(tenantId, userId);
    return [...new Set(rows.map((r) => r.role_name))].sort();
  }

  @Transactional()
  async create(principal: Principal, dto: CreateRoleDto): Promise<RoleDto> {
    requireTenantPermission(principal, 'role.edit');
    const permissions = await this.known(principal.tenantId, dto.permissions, 'permissions');
    this.assertCanGrant(principal, permissions, { type: 'tenant' });
    const row = await this.repo.insert(principal.tenantId, { id: newId('role'), name: dto.name, description: dto.description ?? '', permissions, built_in: false });
    if (!row) throw new RoleNameTakenError(dto.name);
    await this.audit.record({ action: 'role.created', resourceType: 'role', resourceId: row.id, payload: { name: row.name, permissions } });
    return toRoleDto(row);
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<RoleDto>> {
    requireTenantPermission(principal, 'role.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, page), page, toRoleDto);
  }

  async get(principal: Principal, id: string): Promise<RoleDto> {
    requireTenantPermission(principal, 'role.read');
    return toRoleDto(await this.find(principal.tenantId, id));
  }

  @Transactional()
  async replacePermissions(principal: Principal, id: string, dto: ReplaceRolePermissionsDto): Promise<RoleDto> {
    requireTenantPermission(principal, 'role.edit');
    const role = await this.find(principal.tenantId, id);
    if (role.built_in) throw new BuiltInRoleError();
    const permissions = await this.known(principal.tenantId, dto.permissions, 'permissions');
    this.assertCanGrant(principal, permissions.filter((p) => !role.permissions.includes(p)), { type: 'tenant' });
    const updated = await this.repo.replacePermissions(principal.tenantId, id, permissions);
    await this.audit.record({ action: 'role.permissions_replaced', resourceType: 'role', resourceId: id, payload: { before: role.permissions, after: permissions } });
    if (!updated) throw new RoleNotFoundError(id); // deleted meanwhile
    return toRoleDto(updated);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'role.edit');
    const role = await this.find(principal.tenantId, id);
    if (role.built_in) throw new BuiltInRoleError();
    if (!(await this.repo.deleteUnassigned(principal.tenantId, id))) throw new RoleInUseError();
    await this.audit.record({ action: 'role.deleted', resourceType: 'role', resourceId: id, payload: { name: role.name } });
  }

  /** Gives a user or a group (exactly one of `user_id`, `group_id`) a role at a scope. */
  @Transactional()
  async assign(principal: Principal, dto: CreateUserRoleDto): Promise<UserRoleDto> {
    const assignee = assigneeOf(dto);
    const role = await this.find(principal.tenantId, dto.role_id);
    let groupName: string | null = null;
    if (assignee.kind === 'user') await this.users.assertMember(principal.tenantId, assignee.id);
    else {
      const group = await this.repo.findGroup(principal.tenantId, assignee.id);
      if (!group) throw new AssigneeGroupNotFoundError(assignee.id);
      // The owner guard (only an owner demotes an owner, never the last one) counts users holding `owner` themselves.
      if (role.built_in && role.name === 'owner') throw new OwnerToGroupError();
      groupName = group.name;
    }
    const scope = await this.resolveTarget(principal.tenantId, dto.scope_type, dto.scope_id);
    this.requireAssignmentEdit(principal, scope);
    this.assertCanGrant(principal, role.permissions, scope);
    const common = { id: newId('userRole'), role_id: role.id, scope_type: dto.scope_type, scope_id: dto.scope_id, created_by: principal.userId ?? null };
    const row =
      assignee.kind === 'user'
        ? await this.repo.insertAssignment(principal.tenantId, { ...common, user_id: assignee.id })
        : await this.repo.insertGroupAssignment(principal.tenantId, { ...common, group_id: assignee.id });
    if (!row) throw new AssignmentExistsError(assignee.kind);
    const target = assignee.kind === 'user' ? { user_id: assignee.id } : { group_id: assignee.id, group_name: groupName };
    await this.audit.record({ action: 'role.assigned', resourceType: 'user_role', resourceId: row.id, payload: { ...target, role_id: role.id, role_name: role.name, scope_type: dto.scope_type, scope_id: dto.scope_id } });
    return toUserRoleDto({ ...row, role_name: role.name, group_name: groupName });
  }

  async listAssignments(principal: Principal, query: ListUserRolesQueryDto): Promise<Page<UserRoleDto>> {
    requireTenantPermission(principal, 'role.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.listAssignments(principal.tenantId, { userId: query.user_id, roleId: query.role_id, groupId: query.group_id }, page), page, toUserRoleDto);
  }

  /** What a user holds: their own assignments and those of their groups (`group_id`, `group_name` say which). */
  async assignmentsOfUser(principal: Principal, userId: string, query: PaginationQueryDto): Promise<Page<UserRoleDto>> {
    requireTenantPermission(principal, 'user.read');
    await this.users.assertListed(principal.tenantId, userId);
    const page = toPageRequest(query);
    return toPage(await this.repo.listAssignments(principal.tenantId, { userId, throughGroups: true }, page), page, toUserRoleDto);
  }

  /**
   * Joining a group gives its assignments: the caller must hold every permission of each at its scope (403
   * PRIVILEGE_ESCALATION), as when assigning those roles directly.
   */
  async assertCanGrantGroupAssignments(principal: Principal, groupId: string): Promise<void> {
    for (const a of await this.repo.groupAssignments(principal.tenantId, groupId)) {
      // An assignment whose workspace or environment is gone grants nothing there; judge it at tenant scope (stricter).
      const scope = await this.resolveTarget(principal.tenantId, a.scope_type, a.scope_id).catch((): TargetScope => ({ type: 'tenant' }));
      this.assertCanGrant(principal, a.permissions, scope);
    }
  }

  /** Removes a group's assignments (the group is being deleted, in the caller's transaction), each audited. Returns how many. */
  async removeGroupAssignments(tenantId: TenantId, groupId: string): Promise<number> {
    const removed = await this.repo.deleteGroupAssignments(tenantId, groupId);
    await this.audit.recordMany(
      removed.map((a) => ({
        action: 'role.unassigned' as const,
        resourceType: 'user_role',
        resourceId: a.id,
        tenantId,
        payload: { group_id: groupId, role_id: a.role_id, scope_type: a.scope_type, scope_id: a.scope_id, reason: 'group deleted' },
      })),
    );
    return removed.length;
  }

  @Transactional()
  async removeAssignment(principal: Principal, id: string): Promise<void> {
    const assignment = await this.repo.findAssignment(principal.tenantId, id);
    if (!assignment) throw new AssignmentNotFoundError(id);
    // An assignment whose workspace or environment is gone is managed from tenant scope.
    const scope = await this.resolveTarget(principal.tenantId, assignment.scope_type, assignment.scope_id).catch((): TargetScope => ({ type: 'tenant' }));
    this.requireAssignmentEdit(principal, scope);
    if (assignment.user_id !== null) {
      const demotesOwner = assignment.scope_type === 'tenant' && assignment.role_built_in === true && assignment.role_name === 'owner';
      await this.users.assertOwnerChangeAllowed(principal, assignment.user_id, demotesOwner ? 'demote' : 'change');
    }
    if (!(await this.repo.deleteAssignment(principal.tenantId, id))) throw new AssignmentNotFoundError(id);
    const target = assignment.user_id !== null ? { user_id: assignment.user_id } : { group_id: assignment.group_id, group_name: assignment.group_name ?? null };
    await this.audit.record({ action: 'role.unassigned', resourceType: 'user_role', resourceId: id, payload: { ...target, role_id: assignment.role_id, scope_type: assignment.scope_type, scope_id: assignment.scope_id } });
  }

  /** A scope of the caller's tenant; ids of other tenants (or unknown ones) are 404. */
  async resolveTarget(tenantId: TenantId, type: 'tenant' | 'workspace' | 'environment', id: string): Promise<TargetScope> {
    if (type === 'tenant') {
      if (id !== tenantId) throw new TenantNotFoundError(id);
      return { type };
    }
    const ref = await this.workspaces.resolveScope(tenantId, type, id);
    if (!ref) throw type === 'workspace' ? new WorkspaceNotFoundError(id) : new EnvironmentNotFoundError(id);
    return { type, ...ref };
  }

  private async find(tenantId: TenantId, id: string): Promise<RoleRow> {
    const role = await this.repo.find(tenantId, id);
    if (!role) throw new RoleNotFoundError(id);
    return role;
  }

  /**
   * `user_role.edit` at the assignment's scope; at tenant scope (tenant-level, SPEC §2) only a tenant-scope grant counts,
   * so a workspace admin manages assignments in their workspace and nothing above it.
   */
  private requireAssignmentEdit(principal: Principal, scope: TargetScope): void {
    if (scope.type === 'tenant') requireTenantPermission(principal, 'user_role.edit');
    else requirePermission(principal, 'user_role.edit', { workspaceId: scope.workspaceId, environmentId: scope.environmentId });
  }

  private async known(tenantId: TenantId, permissions: string[], field: string): Promise<string[]> {
    const unique = [...new Set(permissions)];
    const unknown = await this.catalog.unknown(tenantId, unique);
    if (unknown.length) throw new UnknownPermissionError(field, unknown);
    return unique.sort();
  }

  private assertCanGrant(principal: Principal, permissions: string[], scope: TargetScope): void {
    const missing = notHeldAt(principal, permissions, scope);
    if (missing.length) throw new PrivilegeEscalationError(missing, scope.type === 'tenant' ? 'tenant scope' : `${scope.type} scope`);
  }
}
