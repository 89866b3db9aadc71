import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { InvitationRow, MemberRow, OwnerRow, SessionContextRow, SessionRow, UserRow, UserViewRow } from './user.entity';
import { TenantId } from '../../common/db/tenant-id';

/** Users and their tenant memberships, invitations, sessions and refresh tokens (the identity store). */
@Injectable()
export class UsersRepository extends BaseRepository {
  countUsers(): Promise<number> {
    return this.one<{ n: string }>(`SELECT count(*) AS n FROM users`).then((r) => Number(r?.n ?? 0));
  }

  /** Serialises first-run setup across replicas for the rest of the transaction. */
  async lockSetup(): Promise<void> {
    await this.rows(`SELECT pg_advisory_xact_lock(7301002)`);
  }

  insertUser(u: Pick<UserRow, 'id' | 'email' | 'name' | 'password_hash' | 'status' | 'is_platform_admin'>): Promise<UserRow | undefined> {
    return this.one<UserRow>(
      `INSERT INTO users (id, email, name, password_hash, status, is_platform_admin) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (lower(email)) DO NOTHING RETURNING *`,
      [u.id, u.email, u.name, u.password_hash, u.status, u.is_platform_admin],
    );
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.one<UserRow>(`SELECT * FROM users WHERE lower(email) = lower($1)`, [email]);
  }

  findUser(id: string): Promise<UserRow | undefined> {
    return this.one<UserRow>(`SELECT * FROM users WHERE id = $1`, [id]);
  }

  activate(id: string, passwordHash: string, name?: string): Promise<UserRow | undefined> {
    return this.one<UserRow>(`UPDATE users SET password_hash = $2, status = 'active', name = COALESCE($3, name) WHERE id = $1 AND status = 'invited' RETURNING *`, [
      id,
      passwordHash,
      name ?? null,
    ]);
  }

  addMember(tenantId: TenantId, userId: string): Promise<boolean> {
    return this.rows(`INSERT INTO tenant_members (tenant_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`, [tenantId, userId]).then(
      (r) => r.length > 0,
    );
  }

  findMember(tenantId: TenantId, userId: string): Promise<MemberRow | undefined> {
    return this.one<MemberRow>(
      `SELECT u.*, m.tenant_id, m.status AS member_status FROM tenant_members m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.user_id = $2`,
      [tenantId, userId],
    );
  }

  /**
   * The tenant's users as the tenant sees them: members, and open invitations by email (not yet anyone's account
   * here; shown with the invitation's id, name and time, never the account's).
   */
  listUsers(tenantId: TenantId, filter: { status?: string; email?: string; id?: string }, page: PageRequest): Promise<UserViewRow[]> {
    return this.rows<UserViewRow>(
      `SELECT * FROM (
         SELECT u.id, u.email, u.name, u.is_platform_admin, u.created_at, u.updated_at,
                CASE WHEN u.status = 'invited' THEN 'invited' ELSE m.status END AS status
           FROM tenant_members m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1
         UNION ALL
         SELECT i.invitee_id, i.email, i.name, false, i.created_at, i.created_at, 'invited'
           FROM invitations i
          WHERE i.tenant_id = $1 AND i.user_id IS NULL AND i.accepted_at IS NULL AND i.expires_at > now()
            AND NOT EXISTS (SELECT 1 FROM tenant_members m2 JOIN users u2 ON u2.id = m2.user_id WHERE m2.tenant_id = $1 AND lower(u2.email) = lower(i.email))
       ) v
        WHERE ($2::text IS NULL OR v.status = $2) AND ($3::text IS NULL OR lower(v.email) = lower($3))
          AND ($4::text IS NULL OR v.id = $4) AND ($5::text IS NULL OR v.id > $5)
        ORDER BY v.id LIMIT $6`,
      [tenantId, filter.status ?? null, filter.email ?? null, filter.id ?? null, page.after ?? null, page.limit + 1],
    );
  }

  /** Tenants where the user is a member (active or disabled), to audit events about them there. */
  memberTenantIds(userId: string): Promise<string[]> {
    return this.rows<{ tenant_id: string }>(`SELECT tenant_id FROM tenant_members WHERE user_id = $1 ORDER BY tenant_id`, [userId]).then((r) => r.map((x) => x.tenant_id));
  }

  /**
   * Serialises changes to the tenant's owners until the transaction ends (row lock on the tenant; `NO KEY UPDATE`
   * leaves rows referencing the tenant free to be written).
   */
  async lockOwners(tenantId: TenantId): Promise<void> {
    await this.rows(`SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, [tenantId]);
  }

  /** Holders of the built-in `owner` role at tenant scope; `active` when both the account and the membership are. */
  owners(tenantId: TenantId): Promise<OwnerRow[]> {
    return this.rows<OwnerRow>(
      `SELECT ur.user_id, COALESCE(m.status = 'active' AND u.status = 'active', false) AS active
         FROM user_roles ur JOIN roles r ON r.id = ur.role_id AND r.built_in AND r.name = 'owner'
         JOIN users u ON u.id = ur.user_id
         LEFT JOIN tenant_members m ON m.tenant_id = ur.tenant_id AND m.user_id = ur.user_id
        WHERE ur.tenant_id = $1 AND ur.scope_type = 'tenant' AND ur.scope_id = $1`,
      [tenantId],
    );
  }

  setMemberStatus(tenantId: TenantId, userId: string, status: 'active' | 'disabled'): Promise<boolean> {
    return this.rows(`UPDATE tenant_members SET status = $3 WHERE tenant_id = $1 AND user_id = $2 RETURNING 1`, [tenantId, userId, status]).then(
      (r) => r.length > 0,
    );
  }

  rename(id: string, name: string): Promise<void> {
    return this.rows(`UPDATE users SET name = $2 WHERE id = $1`, [id, name]).then(() => undefined);
  }

  /** Tenants the user may switch to (active membership, active tenant), oldest membership first. */
  memberships(userId: string): Promise<{ tenant_id: string; slug: string; display_name: string }[]> {
    return this.rows(
      `SELECT t.id AS tenant_id, t.slug, t.display_name FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
        WHERE m.user_id = $1 AND m.status = 'active' AND t.status = 'active' ORDER BY m.created_at, t.id`,
      [userId],
    );
  }

  /** An invitation issued with its (invited) account: tenant creation. */
  insertInvitation(i: { id: string; tenant_id: string; user_id: string; token_hash: string; expires_at: Date; created_by: string | null }): Promise<void> {
    return this.rows(
      `INSERT INTO invitations (id, tenant_id, user_id, token_hash, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
      [i.id, i.tenant_id, i.user_id, i.token_hash, i.expires_at, i.created_by],
    ).then(() => undefined);
  }

  /** An invitation by email; undefined when one is already open for that email in the tenant. */
  insertEmailInvitation(i: Pick<InvitationRow, 'id' | 'tenant_id' | 'email' | 'name' | 'invitee_id' | 'token_hash' | 'expires_at' | 'created_by'>): Promise<InvitationRow | undefined> {
    return this.one<InvitationRow>(
      `INSERT INTO invitations (id, tenant_id, email, name, invitee_id, token_hash, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT DO NOTHING RETURNING *`,
      [i.id, i.tenant_id, i.email, i.name, i.invitee_id, i.token_hash, i.expires_at, i.created_by],
    );
  }

  /** Expired, never-accepted invitations of an email in the tenant (so it can be invited again). */
  deleteExpiredInvitations(tenantId: TenantId, email: string): Promise<void> {
    return this.rows(`DELETE FROM invitations WHERE tenant_id = $1 AND lower(email) = lower($2) AND accepted_at IS NULL AND expires_at <= now()`, [
      tenantId,
      email,
    ]).then(() => undefined);
  }

  /** An open invitation by token hash, row-locked until the transaction ends (accepted once). */
  lockOpenInvitation(tokenHash: string): Promise<InvitationRow | undefined> {
    return this.one<InvitationRow>(`SELECT * FROM invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now() FOR UPDATE`, [tokenHash]);
  }

  markInvitationAccepted(id: string): Promise<void> {
    return this.rows(`UPDATE invitations SET accepted_at = now() WHERE id = $1`, [id]).then(() => undefined);
  }

  insertSession(s: { id: string; tenant_id: string; user_id: string; expires_at: Date; ip?: string; user_agent?: string; auth_method?: SessionRow['auth_method']; auth_provider_id?: string }): Promise<SessionRow> {
    return this.oneRequired<SessionRow>(
      `INSERT INTO sessions (id, tenant_id, user_id, expires_at, ip, user_agent, auth_method, auth_provider_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [s.id, s.tenant_id, s.user_id, s.expires_at, s.ip ?? null, s.user_agent ?? null, s.auth_method ?? 'password', s.auth_provider_id ?? null],
    );
  }

  sessionAuthMethod(sessionId: string): Promise<SessionRow['auth_method'] | undefined> {
    return this.one<{ auth_method: SessionRow['auth_method'] }>(`SELECT auth_method FROM sessions WHERE id = $1`, [sessionId]).then((r) => r?.auth_method);
  }

  sessionContext(sessionId: string): Promise<SessionContextRow | undefined> {
    return this.one<SessionContextRow>(
      `SELECT s.id AS session_id, s.revoked_at AS session_revoked_at, s.expires_at AS session_expires_at,
              t.id AS tenant_id, t.status AS tenant_status,
              u.id AS user_id, u.email, u.name, u.status AS user_status, u.is_platform_admin, m.status AS member_status
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id
         LEFT JOIN tenant_members m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id
        WHERE s.id = $1`,
      [sessionId],
    );
  }

  revokeSession(sessionId: string, reason: string): Promise<void> {
    return this.rows(`UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`, [sessionId, reason]).then(
      () => undefined,
    );
  }

  revokeUserSessions(tenantId: TenantId, userId: string, reason: string): Promise<void> {
    return this.rows(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $3 WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [tenantId, userId, reason],
    ).then(() => undefined);
  }

  insertRefreshToken(id: string, sessionId: string, tokenHash: string): Promise<void> {
    return this.rows(`INSERT INTO refresh_tokens (id, session_id, token_hash) VALUES ($1, $2, $3)`, [id, sessionId, tokenHash]).then(() => undefined);
  }

  /** The refresh token and its session, row-locked so two concurrent refreshes serialise. */
  lockRefreshToken(tokenHash: string): Promise<{ id: string; session_id: string; used_at: Date | null } | undefined> {
    return this.one(`SELECT id, session_id, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [tokenHash]);
  }

  markRefreshTokenUsed(id: string): Promise<void> {
    return this.rows(`UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, [id]).then(() => undefined);
  }
}
