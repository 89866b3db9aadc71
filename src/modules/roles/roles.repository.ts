import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { ScopeType } from '../../common/auth/principal';
import { BaseRepository } from '../../common/db/base.repository';
import { RoleRow, UserRoleRow } from './role.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class RolesRepository extends BaseRepository {
  insert(tenantId: TenantId, r: Pick<RoleRow, 'id' | 'name' | 'description' | 'permissions' | 'built_in'>): Promise<RoleRow | undefined> {
    return this.one<RoleRow>(
      `INSERT INTO roles (id, tenant_id, name, description, permissions, built_in) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, name) DO NOTHING RETURNING *`,
      [r.id, tenantId, r.name, r.description, r.permissions, r.built_in],
    );
  }

  list(tenantId: TenantId, page: PageRequest): Promise<RoleRow[]> {
    return this.listKeyset<RoleRow>('roles', tenantId, page);
  }

  find(tenantId: TenantId, id: string): Promise<RoleRow | undefined> {
    return this.findOneInTenant<RoleRow>('roles', tenantId, id);
  }

  findByName(tenantId: TenantId, name: string): Promise<RoleRow | undefined> {
    return this.one<RoleRow>(`SELECT * FROM roles WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
  }

  /** Which of `ids` are roles of the tenant. */
  existingIds(tenantId: TenantId, ids: string[]): Promise<{ id: string }[]> {
    return this.rows<{ id: string }>(`SELECT id FROM roles WHERE tenant_id = $1 AND id = ANY($2::text[])`, [tenantId, ids]);
  }

  builtInsByName(tenantId: TenantId, names: string[]): Promise<{ id: string; name: string }[]> {
    return this.rows<{ id: string; name: string }>(`SELECT id, name FROM roles WHERE tenant_id = $1 AND built_in AND name = ANY($2::text[])`, [tenantId, names]);
  }

  replacePermissions(tenantId: TenantId, id: string, permissions: string[]): Promise<RoleRow | undefined> {
    return this.one<RoleRow>(`UPDATE roles SET permissions = $3 WHERE tenant_id = $1 AND id = $2 AND NOT built_in RETURNING *`, [tenantId, id, permissions]);
  }

  /** Deletes an unassigned custom role; the NOT EXISTS makes the check and the delete one statement. */
  deleteUnassigned(tenantId: TenantId, id: string): Promise<RoleRow | undefined> {
    return this.one<RoleRow>(
      `DELETE FROM roles r WHERE r.tenant_id = $1 AND r.id = $2 AND NOT r.built_in
         AND NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = r.id) RETURNING *`,
      [tenantId, id],
    );
  }

  insertAssignment(tenantId: TenantId, a: Pick<UserRoleRow, 'id' | 'user_id' | 'role_id' | 'scope_type' | 'scope_id' | 'created_by'> & { user_id: string }): Promise<UserRoleRow | undefined> {
    return this.one<UserRoleRow>(
      `INSERT INTO user_roles (id, tenant_id, user_id, role_id, scope_type, scope_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, user_id, role_id, scope_type, scope_id) DO NOTHING RETURNING *`,
      [a.id, tenantId, a.user_id, a.role_id, a.scope_type, a.scope_id, a.created_by],
    );
  }

  /** A group's assignment; undefined when the group already holds the role at that scope. */
  insertGroupAssignment(tenantId: TenantId, a: Pick<UserRoleRow, 'id' | 'role_id' | 'scope_type' | 'scope_id' | 'created_by'> & { group_id: string }): Promise<UserRoleRow | undefined> {
    return this.one<UserRoleRow>(
      `INSERT INTO user_roles (id, tenant_id, group_id, role_id, scope_type, scope_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, group_id, role_id, scope_type, scope_id) WHERE group_id IS NOT NULL DO NOTHING RETURNING *`,
      [a.id, tenantId, a.group_id, a.role_id, a.scope_type, a.scope_id, a.created_by],
    );
  }

  /** The group of the tenant (a role assignment may target it), or undefined. */
  findGroup(tenantId: TenantId, id: string): Promise<{ id: string; name: string } | undefined> {
    return this.one(`SELECT id, name FROM groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  /**
   * Assignments in id order. `userId`: the user's own; with `throughGroups`, also those of the groups the user is in
   * (what the user holds, each row naming its group).
   */
  listAssignments(tenantId: TenantId, filter: { userId?: string; roleId?: string; groupId?: string; throughGroups?: boolean }, page: PageRequest): Promise<UserRoleRow[]> {
    return this.rows<UserRoleRow>(
      `SELECT ur.*, r.name AS role_name, g.name AS group_name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
         LEFT JOIN groups g ON g.tenant_id = ur.tenant_id AND g.id = ur.group_id
        WHERE ur.tenant_id = $1
          AND ($2::text IS NULL OR ur.user_id = $2
               OR ($6 AND ur.group_id IN (SELECT gm.group_id FROM group_members gm WHERE gm.tenant_id = $1 AND gm.user_id = $2)))
          AND ($3::text IS NULL OR ur.role_id = $3) AND ($7::text IS NULL OR ur.group_id = $7)
          AND ($4::text IS NULL OR ur.id > $4) ORDER BY ur.id LIMIT $5`,
      [tenantId, filter.userId ?? null, filter.roleId ?? null, page.after ?? null, page.limit + 1, filter.throughGroups === true, filter.groupId ?? null],
    );
  }

  findAssignment(tenantId: TenantId, id: string): Promise<UserRoleRow | undefined> {
    return this.one<UserRoleRow>(
      `SELECT ur.*, r.name AS role_name, r.built_in AS role_built_in, g.name AS group_name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
         LEFT JOIN groups g ON g.tenant_id = ur.tenant_id AND g.id = ur.group_id
        WHERE ur.tenant_id = $1 AND ur.id = $2`,
      [tenantId, id],
    );
  }

  /** A group's assignments with their roles' permissions (what joining the group gives). */
  groupAssignments(tenantId: TenantId, groupId: string): Promise<{ id: string; role_id: string; role_name: string; permissions: string[]; scope_type: ScopeType; scope_id: string }[]> {
    return this.rows(
      `SELECT ur.id, ur.role_id, r.name AS role_name, r.permissions, ur.scope_type, ur.scope_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id
        WHERE ur.tenant_id = $1 AND ur.group_id = $2 ORDER BY ur.id`,
      [tenantId, groupId],
    );
  }

  deleteGroupAssignments(tenantId: TenantId, groupId: string): Promise<UserRoleRow[]> {
    return this.rows<UserRoleRow>(`DELETE FROM user_roles WHERE tenant_id = $1 AND group_id = $2 RETURNING *`, [tenantId, groupId]);
  }

  deleteAssignment(tenantId: TenantId, id: string): Promise<UserRoleRow | undefined> {
    return this.one<UserRoleRow>(`DELETE FROM user_roles WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }

  /**
   * Active members who hold one of `roleIds` anywhere (themselves or through a group), are listed in `userIds` or are
   * members of `groupIds`, with all their assignments, own and through groups (for approver eligibility), and which of
   * `groupIds` they are in (`in_groups`, the same on each of a user's rows).
   */
  candidateAssignments(
    tenantId: TenantId,
    roleIds: string[],
    userIds: string[],
    groupIds: string[],
  ): Promise<{ user_id: string; email: string; in_groups: string[]; role_id: string | null; scope_type: string | null; scope_id: string | null; group_id: string | null; permissions: string[] | null }[]> {
    return this.rows(
      `WITH candidates AS (
         SELECT user_id FROM user_roles WHERE tenant_id = $1 AND user_id IS NOT NULL AND role_id = ANY($2::text[])
         UNION SELECT gm.user_id FROM user_roles ur JOIN group_members gm ON gm.tenant_id = ur.tenant_id AND gm.group_id = ur.group_id
                WHERE ur.tenant_id = $1 AND ur.role_id = ANY($2::text[])
         UNION SELECT unnest($3::text[])
         UNION SELECT user_id FROM group_members WHERE tenant_id = $1 AND group_id = ANY($4::text[])),
       held AS (
         SELECT ur.user_id, ur.role_id, ur.scope_type, ur.scope_id, NULL::text AS group_id FROM user_roles ur JOIN candidates c ON c.user_id = ur.user_id
          WHERE ur.tenant_id = $1
         UNION ALL
         SELECT gm.user_id, ur.role_id, ur.scope_type, ur.scope_id, ur.group_id FROM group_members gm JOIN candidates c ON c.user_id = gm.user_id
           JOIN user_roles ur ON ur.tenant_id = gm.tenant_id AND ur.group_id = gm.group_id
          WHERE gm.tenant_id = $1)
       SELECT c.user_id, u.email,
              ARRAY(SELECT gm.group_id FROM group_members gm WHERE gm.tenant_id = $1 AND gm.user_id = c.user_id AND gm.group_id = ANY($4::text[]) ORDER BY gm.group_id) AS in_groups,
              h.role_id, h.scope_type, h.scope_id, h.group_id, r.permissions
         FROM candidates c
         JOIN tenant_members m ON m.tenant_id = $1 AND m.user_id = c.user_id AND m.status = 'active'
         JOIN users u ON u.id = c.user_id AND u.status = 'active'
         LEFT JOIN held h ON h.user_id = c.user_id
         LEFT JOIN roles r ON r.id = h.role_id
        ORDER BY c.user_id`,
      [tenantId, roleIds, userIds, groupIds],
    );
  }

  /**
   * Every (role permissions, scope) a user holds in the tenant, their own assignments and their groups' (naming the
   * group): the input of the principal's grants. One statement, two index lookups, on every principal cache miss.
   */
  grantRows(
    tenantId: TenantId,
    userId: string,
  ): Promise<{ permissions: string[]; scope_type: ScopeType; scope_id: string; role_id: string; role_name: string; built_in: boolean; assignment_id: string; group_id: string | null; group_name: string | null }[]> {
    return this.rows(
      `SELECT r.permissions, ur.scope_type, ur.scope_id, r.id AS role_id, r.name AS role_name, r.built_in, ur.id AS assignment_id,
              NULL::text AS group_id, NULL::text AS group_name
         FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.tenant_id = $1 AND ur.user_id = $2
       UNION ALL
       SELECT r.permissions, ur.scope_type, ur.scope_id, r.id, r.name, r.built_in, ur.id, g.id, g.name
         FROM group_members gm
         JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
         JOIN user_roles ur ON ur.tenant_id = gm.tenant_id AND ur.group_id = gm.group_id
         JOIN roles r ON r.id = ur.role_id
        WHERE gm.tenant_id = $1 AND gm.user_id = $2`,
      [tenantId, userId],
    );
  }
}
