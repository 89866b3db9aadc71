import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { TenantId } from '../../common/db/tenant-id';
import { GroupMemberRow, GroupMemberViewRow, GroupRow } from './group.entity';

const MEMBER_COUNT = `(SELECT count(*)::int FROM group_members gm WHERE gm.tenant_id = g.tenant_id AND gm.group_id = g.id) AS member_count`;

@Injectable()
export class GroupsRepository extends BaseRepository {
  insert(tenantId: TenantId, g: Pick<GroupRow, 'id' | 'name' | 'description' | 'managed_by_provider_id' | 'created_by'>): Promise<GroupRow | undefined> {
    return this.one<GroupRow>(
      `INSERT INTO groups (id, tenant_id, name, description, managed_by_provider_id, created_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, name) DO NOTHING RETURNING *, 0 AS member_count`,
      [g.id, tenantId, g.name, g.description, g.managed_by_provider_id, g.created_by],
    );
  }

  /** `managedBy`: undefined = every group, null = local groups only, else that provider's. */
  list(tenantId: TenantId, managedBy: string | null | undefined, page: PageRequest): Promise<GroupRow[]> {
    return this.rows<GroupRow>(
      `SELECT g.*, ${MEMBER_COUNT} FROM groups g
        WHERE g.tenant_id = $1
          AND ($2::boolean IS NOT TRUE OR g.managed_by_provider_id IS NULL)
          AND ($3::text IS NULL OR g.managed_by_provider_id = $3)
          AND ($4::text IS NULL OR g.id > $4)
        ORDER BY g.id LIMIT $5`,
      [tenantId, managedBy === null, managedBy ?? null, page.after ?? null, page.limit + 1],
    );
  }

  find(tenantId: TenantId, id: string, lock?: 'FOR UPDATE' | 'FOR SHARE'): Promise<GroupRow | undefined> {
    // The count is read after the lock (a subquery in the locking statement is allowed; FOR … OF g locks the group only).
    return this.one<GroupRow>(`SELECT g.*, ${MEMBER_COUNT} FROM groups g WHERE g.tenant_id = $1 AND g.id = $2${lock ? ` ${lock === 'FOR SHARE' ? 'FOR SHARE' : 'FOR UPDATE'} OF g` : ''}`, [tenantId, id]);
  }

  nameTaken(tenantId: TenantId, name: string, exceptId: string): Promise<boolean> {
    return this.one(`SELECT 1 FROM groups WHERE tenant_id = $1 AND name = $2 AND id <> $3`, [tenantId, name, exceptId]).then(Boolean);
  }

  update(tenantId: TenantId, id: string, patch: { name?: string; description?: string }): Promise<GroupRow | undefined> {
    return this.one<GroupRow>(
      `UPDATE groups g SET name = COALESCE($3, g.name), description = COALESCE($4, g.description)
        WHERE g.tenant_id = $1 AND g.id = $2 RETURNING g.*, ${MEMBER_COUNT}`,
      [tenantId, id, patch.name ?? null, patch.description ?? null],
    );
  }

  delete(tenantId: TenantId, id: string): Promise<GroupRow | undefined> {
    return this.one<GroupRow>(`DELETE FROM groups WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }

  /** Which of `ids` are groups of the tenant. */
  existing(tenantId: TenantId, ids: string[]): Promise<{ id: string; name: string; managed_by_provider_id: string | null }[]> {
    return this.rows(`SELECT id, name, managed_by_provider_id FROM groups WHERE tenant_id = $1 AND id = ANY($2::text[])`, [tenantId, ids]);
  }

  /** One page of members, in user id order, with each user's email and name. */
  members(tenantId: TenantId, groupId: string, page: PageRequest): Promise<GroupMemberViewRow[]> {
    return this.rows<GroupMemberViewRow>(
      `SELECT gm.*, gm.user_id AS id, u.email, u.name FROM group_members gm JOIN users u ON u.id = gm.user_id
        WHERE gm.tenant_id = $1 AND gm.group_id = $2 AND ($3::text IS NULL OR gm.user_id > $3)
        ORDER BY gm.user_id LIMIT $4`,
      [tenantId, groupId, page.after ?? null, page.limit + 1],
    );
  }

  member(tenantId: TenantId, groupId: string, userId: string): Promise<GroupMemberViewRow | undefined> {
    return this.one<GroupMemberViewRow>(
      `SELECT gm.*, gm.user_id AS id, u.email, u.name FROM group_members gm JOIN users u ON u.id = gm.user_id
        WHERE gm.tenant_id = $1 AND gm.group_id = $2 AND gm.user_id = $3`,
      [tenantId, groupId, userId],
    );
  }

  /** Adds the member unless already one; undefined when they were. The member must be in the tenant (checked first). */
  insertMember(tenantId: TenantId, m: Pick<GroupMemberRow, 'group_id' | 'user_id' | 'added_by'>): Promise<GroupMemberRow | undefined> {
    return this.one<GroupMemberRow>(
      `INSERT INTO group_members (tenant_id, group_id, user_id, added_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, user_id) DO NOTHING RETURNING *`,
      [tenantId, m.group_id, m.user_id, m.added_by],
    );
  }

  deleteMember(tenantId: TenantId, groupId: string, userId: string): Promise<GroupMemberRow | undefined> {
    return this.one<GroupMemberRow>(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3 RETURNING *`, [tenantId, groupId, userId]);
  }

  /** The groups a user is a member of, with their names. */
  groupsOf(tenantId: TenantId, userId: string): Promise<{ id: string; name: string; managed_by_provider_id: string | null }[]> {
    return this.rows(
      `SELECT g.id, g.name, g.managed_by_provider_id FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
        WHERE gm.tenant_id = $1 AND gm.user_id = $2 ORDER BY g.id`,
      [tenantId, userId],
    );
  }

  /** Marks groups as managed by the provider (only local ones or its own; returns those it changed or kept). */
  markManaged(tenantId: TenantId, providerId: string, ids: string[]): Promise<{ id: string }[]> {
    return this.rows(
      `UPDATE groups SET managed_by_provider_id = $2
        WHERE tenant_id = $1 AND id = ANY($3::text[]) AND (managed_by_provider_id IS NULL OR managed_by_provider_id = $2) RETURNING id`,
      [tenantId, providerId, ids],
    );
  }

  /** Makes the provider's groups not in `keep` local again; returns their ids. */
  releaseManaged(tenantId: TenantId, providerId: string, keep: string[]): Promise<{ id: string }[]> {
    return this.rows(
      `UPDATE groups SET managed_by_provider_id = NULL WHERE tenant_id = $1 AND managed_by_provider_id = $2 AND NOT (id = ANY($3::text[])) RETURNING id`,
      [tenantId, providerId, keep],
    );
  }

  /** The provider's groups, locked against a concurrent sync of the same user (rows of other users are not blocked). */
  managedBy(tenantId: TenantId, providerId: string): Promise<{ id: string; name: string }[]> {
    return this.rows(`SELECT id, name FROM groups WHERE tenant_id = $1 AND managed_by_provider_id = $2 ORDER BY id FOR SHARE`, [tenantId, providerId]);
  }
}
