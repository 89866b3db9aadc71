import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { isoRequired } from '../../common/api/time';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { TenantId } from '../../common/db/tenant-id';
import { AuditActor } from '../../common/audit/audit.types';
import { AuditService } from '../audit/audit.service';
import { RolesService } from '../roles/roles.service';
import { UsersService } from '../users/users.service';
import { AddGroupMemberDto, CreateGroupDto, GroupDto, GroupMemberDto, ListGroupsQueryDto, LOCAL_GROUPS, UpdateGroupDto } from './dto/group.dto';
import { GroupMemberViewRow, GroupRow } from './group.entity';
import { AlreadyGroupMemberError, GroupInUseError, GroupManagedElsewhereError, GroupMemberNotFoundError, GroupNameTakenError, GroupNotFoundError, ProviderManagedGroupError } from './groups.errors';
import { GroupsRepository } from './groups.repository';

const toGroupDto = (g: GroupRow): GroupDto => ({
  id: g.id,
  tenant_id: g.tenant_id,
  name: g.name,
  description: g.description,
  managed_by: g.managed_by_provider_id,
  member_count: g.member_count ?? 0,
  created_at: isoRequired(g.created_at),
  updated_at: isoRequired(g.updated_at),
});

const toMemberDto = (m: GroupMemberViewRow): GroupMemberDto => ({
  group_id: m.group_id,
  user_id: m.user_id,
  email: m.email,
  name: m.name,
  added_by: m.added_by,
  added_at: isoRequired(m.created_at),
});

/** Something that names groups (workflow stages, provider mappings): a group it names is not deleted under it. */
export interface GroupUsage {
  what: string;
  inUse(tenantId: TenantId, groupId: string): Promise<boolean>;
}

/** A group a user belongs to, for eligibility and explanations. */
export interface GroupRef {
  id: string;
  name: string;
}

/**
 * Groups of a tenant and their members (SPEC "Identity providers (OIDC) and groups"). A member holds the group's role
 * assignments (the roles module reads memberships with the assignments, on the principal's path); a local group's
 * members are edited here, a provider-managed group's only by sign-in sync (`syncProviderMemberships`).
 */
@Injectable()
export class GroupsService {
  private readonly usages: GroupUsage[] = [];

  constructor(
    private readonly repo: GroupsRepository,
    private readonly users: UsersService,
    private readonly roles: RolesService,
    private readonly audit: AuditService,
  ) {}

  /** Port for modules that name groups (workflows, identity providers), so this module does not depend on them. */
  addUsage(usage: GroupUsage): void {
    this.usages.push(usage);
  }

  @Transactional()
  async create(principal: Principal, dto: CreateGroupDto): Promise<GroupDto> {
    requireTenantPermission(principal, 'user.manage');
    const row = await this.repo.insert(principal.tenantId, { id: newId('group'), name: dto.name, description: dto.description ?? '', managed_by_provider_id: null, created_by: principal.userId ?? null });
    if (!row) throw new GroupNameTakenError(dto.name);
    await this.audit.record({ action: 'group.created', resourceType: 'group', resourceId: row.id, payload: { name: row.name } });
    return toGroupDto(row);
  }

  async list(principal: Principal, query: ListGroupsQueryDto): Promise<Page<GroupDto>> {
    requireTenantPermission(principal, 'user.read');
    const page = toPageRequest(query);
    const managedBy = query.managed_by === undefined ? undefined : query.managed_by === LOCAL_GROUPS ? null : query.managed_by;
    return toPage(await this.repo.list(principal.tenantId, managedBy, page), page, toGroupDto);
  }

  async get(principal: Principal, id: string): Promise<GroupDto> {
    requireTenantPermission(principal, 'user.read');
    return toGroupDto(await this.find(principal.tenantId, id));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateGroupDto): Promise<GroupDto> {
    requireTenantPermission(principal, 'user.manage');
    const before = await this.find(principal.tenantId, id, 'FOR UPDATE');
    if (dto.name !== undefined && (await this.repo.nameTaken(principal.tenantId, dto.name, id))) throw new GroupNameTakenError(dto.name);
    const row = await this.repo.update(principal.tenantId, id, { name: dto.name, description: dto.description });
    if (!row) throw new GroupNotFoundError(id);
    await this.audit.record({ action: 'group.updated', resourceType: 'group', resourceId: id, payload: { changes: { ...dto }, previous_name: before.name } });
    return toGroupDto(row);
  }

  /**
   * Deletes the group with its memberships and role assignments (each assignment's removal audited by the roles
   * module); 409 IN_USE while a workflow stage or an identity provider names it. Effective on the next request.
   */
  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'user.manage');
    const group = await this.find(principal.tenantId, id, 'FOR UPDATE');
    const usedBy: string[] = [];
    // One after the other: they share the transaction's connection.
    for (const usage of this.usages) if (await usage.inUse(principal.tenantId, id)) usedBy.push(usage.what);
    if (usedBy.length) throw new GroupInUseError(usedBy.sort());
    const assignments = await this.roles.removeGroupAssignments(principal.tenantId, id);
    if (!(await this.repo.delete(principal.tenantId, id))) throw new GroupNotFoundError(id);
    await this.audit.record({
      action: 'group.deleted',
      resourceType: 'group',
      resourceId: id,
      payload: { name: group.name, managed_by: group.managed_by_provider_id, member_count: group.member_count ?? 0, removed_assignments: assignments },
    });
  }

  async listMembers(principal: Principal, groupId: string, query: PaginationQueryDto): Promise<Page<GroupMemberDto>> {
    requireTenantPermission(principal, 'user.read');
    await this.find(principal.tenantId, groupId);
    const page = toPageRequest(query);
    return toPage(await this.repo.members(principal.tenantId, groupId, page), page, toMemberDto);
  }

  /**
   * Adds a member to a local group. Joining a group gives its assignments, so the caller must hold each of them at its
   * scope (403 PRIVILEGE_ESCALATION otherwise), as for assigning the roles directly.
   */
  @Transactional()
  async addMember(principal: Principal, groupId: string, dto: AddGroupMemberDto): Promise<GroupMemberDto> {
    requireTenantPermission(principal, 'user.manage');
    const group = await this.find(principal.tenantId, groupId, 'FOR SHARE');
    if (group.managed_by_provider_id) throw new ProviderManagedGroupError(group.managed_by_provider_id);
    await this.users.assertMember(principal.tenantId, dto.user_id);
    await this.roles.assertCanGrantGroupAssignments(principal, groupId);
    const inserted = await this.repo.insertMember(principal.tenantId, { group_id: groupId, user_id: dto.user_id, added_by: principal.userId ?? null });
    if (!inserted) throw new AlreadyGroupMemberError();
    await this.audit.record({ action: 'group.member_added', resourceType: 'group', resourceId: groupId, payload: { user_id: dto.user_id, group_name: group.name } });
    const member = await this.repo.member(principal.tenantId, groupId, dto.user_id);
    if (!member) throw new GroupMemberNotFoundError(groupId, dto.user_id); // the user row went away meanwhile
    return toMemberDto(member);
  }

  /** Removes a member of a local group; the member loses the group's grants on the next request on every replica. */
  @Transactional()
  async removeMember(principal: Principal, groupId: string, userId: string): Promise<void> {
    requireTenantPermission(principal, 'user.manage');
    const group = await this.find(principal.tenantId, groupId, 'FOR SHARE');
    if (group.managed_by_provider_id) throw new ProviderManagedGroupError(group.managed_by_provider_id);
    if (!(await this.repo.deleteMember(principal.tenantId, groupId, userId))) throw new GroupMemberNotFoundError(groupId, userId);
    await this.audit.record({ action: 'group.member_removed', resourceType: 'group', resourceId: groupId, payload: { user_id: userId, group_name: group.name } });
  }

  /** 404 NOT_FOUND naming every id of `ids` that is not a group of the tenant. */
  async assertGroups(tenantId: TenantId, ids: string[]): Promise<void> {
    const unique = [...new Set(ids)];
    if (!unique.length) return;
    const found = new Set((await this.repo.existing(tenantId, unique)).map((g) => g.id));
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length) throw new GroupNotFoundError(missing.join(', '));
  }

  /** The groups of `ids` that exist in the tenant, with their names (for explanations). */
  async describe(tenantId: TenantId, ids: string[]): Promise<Map<string, GroupRef>> {
    const unique = [...new Set(ids)];
    if (!unique.length) return new Map();
    return new Map((await this.repo.existing(tenantId, unique)).map((g) => [g.id, { id: g.id, name: g.name }]));
  }

  /** The groups a user is a member of in the tenant. */
  async groupsOf(tenantId: TenantId, userId: string): Promise<GroupRef[]> {
    return (await this.repo.groupsOf(tenantId, userId)).map((g) => ({ id: g.id, name: g.name }));
  }

  /**
   * For identity-provider configuration: the groups the provider's mappings name become managed by it (their members
   * are then set only by `syncProviderMemberships`), and its groups no longer named become local again. 404 naming
   * unknown ids; 409 when another provider manages one of them. Runs in the caller's transaction.
   */
  async setProviderManaged(tenantId: TenantId, providerId: string, groupIds: string[]): Promise<void> {
    const unique = [...new Set(groupIds)];
    const existing = await this.repo.existing(tenantId, unique);
    const missing = unique.filter((id) => !existing.some((g) => g.id === id));
    if (missing.length) throw new GroupNotFoundError(missing.join(', '));
    const elsewhere = existing.find((g) => g.managed_by_provider_id !== null && g.managed_by_provider_id !== providerId);
    if (elsewhere?.managed_by_provider_id) throw new GroupManagedElsewhereError(elsewhere.id, elsewhere.managed_by_provider_id);
    const newlyManaged = existing.filter((g) => g.managed_by_provider_id === null).map((g) => g.id);
    const marked = new Set((await this.repo.markManaged(tenantId, providerId, unique)).map((m) => m.id));
    // Another provider took one between the read and the update.
    const raced = unique.find((id) => !marked.has(id));
    if (raced) throw new GroupManagedElsewhereError(raced, 'another provider');
    const released = (await this.repo.releaseManaged(tenantId, providerId, unique)).map((r) => r.id);
    for (const id of newlyManaged) await this.audit.record({ action: 'group.updated', resourceType: 'group', resourceId: id, tenantId, payload: { changes: { managed_by: providerId } } });
    for (const id of released) await this.audit.record({ action: 'group.updated', resourceType: 'group', resourceId: id, tenantId, payload: { changes: { managed_by: null }, previous_managed_by: providerId } });
  }

  /**
   * Sign-in sync: makes the user's memberships of the provider's managed groups exactly `groupIds` (ids the provider
   * does not manage are ignored and returned as such). Adds and removes in the caller's transaction, each audited
   * (`actor` defaults to the request's principal; sign-in passes its own). A removal applies on the next request on
   * every replica (the group_members trigger announces it).
   */
  async syncProviderMemberships(
    tenantId: TenantId,
    userId: string,
    providerId: string,
    groupIds: string[],
    actor?: AuditActor,
  ): Promise<{ added: string[]; removed: string[]; ignored: string[] }> {
    const managed = await this.repo.managedBy(tenantId, providerId);
    const managedIds = new Set(managed.map((g) => g.id));
    const wanted = new Set(groupIds.filter((id) => managedIds.has(id)));
    const ignored = [...new Set(groupIds.filter((id) => !managedIds.has(id)))];
    const current = new Set((await this.repo.groupsOf(tenantId, userId)).filter((g) => g.managed_by_provider_id === providerId).map((g) => g.id));
    const added: string[] = [];
    const removed: string[] = [];
    for (const id of [...wanted].sort()) {
      if (current.has(id)) continue;
      if (await this.repo.insertMember(tenantId, { group_id: id, user_id: userId, added_by: null })) added.push(id);
    }
    for (const id of [...current].sort()) {
      if (wanted.has(id)) continue;
      if (await this.repo.deleteMember(tenantId, id, userId)) removed.push(id);
    }
    const name = (id: string) => managed.find((g) => g.id === id)?.name ?? id;
    const source = { source: 'provider', provider_id: providerId };
    await this.audit.recordMany([
      ...added.map((id) => ({ action: 'group.member_added' as const, resourceType: 'group', resourceId: id, tenantId, actor, payload: { user_id: userId, group_name: name(id), ...source } })),
      ...removed.map((id) => ({ action: 'group.member_removed' as const, resourceType: 'group', resourceId: id, tenantId, actor, payload: { user_id: userId, group_name: name(id), ...source } })),
    ]);
    return { added, removed, ignored };
  }

  private async find(tenantId: TenantId, id: string, lock?: 'FOR UPDATE' | 'FOR SHARE'): Promise<GroupRow> {
    const row = await this.repo.find(tenantId, id, lock);
    if (!row) throw new GroupNotFoundError(id);
    return row;
  }
}
