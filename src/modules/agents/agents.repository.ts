import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { AgentContextRow, AgentRow, EnrollmentTokenRow } from './agent.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class AgentsRepository extends BaseRepository {
  insertEnrollmentToken(tenantId: string, t: Omit<EnrollmentTokenRow, 'tenant_id' | 'uses' | 'created_at'>): Promise<EnrollmentTokenRow> {
    return this.one<EnrollmentTokenRow>(
      `INSERT INTO agent_enrollment_tokens (id, tenant_id, workspace_id, environment_id, name, token_hash, expires_at, max_uses, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [t.id, tenantId, t.workspace_id, t.environment_id, t.name, t.token_hash, t.expires_at, t.max_uses, t.created_by],
    ).then((r) => r!);
  }

  /** Uses the token once if it is valid (not expired, uses left, tenant active): one statement, safe under races. */
  consumeEnrollmentToken(tokenHash: string): Promise<EnrollmentTokenRow | undefined> {
    return this.one<EnrollmentTokenRow>(
      `UPDATE agent_enrollment_tokens e SET uses = uses + 1
         FROM tenants t, workspaces w
        WHERE e.token_hash = $1 AND e.expires_at > now() AND e.uses < e.max_uses AND t.id = e.tenant_id AND t.status = 'active'
          AND w.id = e.workspace_id AND w.status <> 'deleted'
        RETURNING e.*`,
      [tokenHash],
    );
  }

  insert(tenantId: string, a: Pick<AgentRow, 'id' | 'workspace_id' | 'environment_id' | 'name' | 'cluster_name' | 'version' | 'capabilities' | 'secret_hash' | 'enrollment_token_id' | 'created_by'>): Promise<AgentRow> {
    return this.one<AgentRow>(
      `INSERT INTO agents (id, tenant_id, workspace_id, environment_id, name, cluster_name, version, capabilities, secret_hash, enrollment_token_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [a.id, tenantId, a.workspace_id, a.environment_id, a.name, a.cluster_name, a.version, a.capabilities, a.secret_hash, a.enrollment_token_id, a.created_by],
    ).then((r) => r!);
  }

  list(tenantId: string, workspaceIds: string[] | undefined, page: PageRequest): Promise<AgentRow[]> {
    return this.rows<AgentRow>(
      `SELECT * FROM agents WHERE tenant_id = $1 AND ($2::text[] IS NULL OR workspace_id = ANY($2)) AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4`,
      [tenantId, workspaceIds ?? null, page.after ?? null, page.limit + 1],
    );
  }

  find(tenantId: string, id: string): Promise<AgentRow | undefined> {
    return this.one<AgentRow>(`SELECT * FROM agents WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  findBySecretHash(secretHash: string): Promise<AgentContextRow | undefined> {
    return this.one<AgentContextRow>(
      `SELECT a.*, CASE WHEN w.status = 'deleted' THEN 'deleted' ELSE t.status END AS tenant_status
         FROM agents a JOIN tenants t ON t.id = a.tenant_id JOIN workspaces w ON w.id = a.workspace_id WHERE a.secret_hash = $1`,
      [secretHash],
    );
  }

  revoke(tenantId: TenantId, id: string): Promise<AgentRow | undefined> {
    return this.one<AgentRow>(`UPDATE agents SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }

  setPublicKey(tenantId: TenantId, id: string, publicKey: string): Promise<void> {
    return this.rows(`UPDATE agents SET public_key = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, publicKey]).then(() => undefined);
  }

  /**
   * Agents (every tenant) whose heartbeat lapsed `offlineAfterSeconds` ago and whose lapse was not announced yet,
   * locked for the notifier's transaction.
   */
  lockLapsed(offlineAfterSeconds: number, limit: number): Promise<AgentRow[]> {
    return this.rows<AgentRow>(
      `SELECT * FROM agents
        WHERE revoked_at IS NULL AND last_seen_at IS NOT NULL AND last_seen_at < now() - make_interval(secs => $1)
          AND (offline_notified_at IS NULL OR offline_notified_at < last_seen_at)
        ORDER BY last_seen_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [offlineAfterSeconds, limit],
    );
  }

  markOfflineNotified(tenantId: TenantId, id: string): Promise<void> {
    return this.rows(`UPDATE agents SET offline_notified_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, id]).then(() => undefined);
  }

  heartbeat(tenantId: TenantId, id: string, version: string | undefined, capabilities: string[] | undefined): Promise<void> {
    return this.rows(
      `UPDATE agents SET last_seen_at = now(), version = COALESCE($3, version), capabilities = COALESCE($4, capabilities) WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, version ?? null, capabilities ?? null],
    ).then(() => undefined);
  }

  insertDek(tenantId: TenantId, id: string, agentId: string, wrappedDek: string): Promise<void> {
    return this.rows(`INSERT INTO deks (id, tenant_id, agent_id, wrapped_dek) VALUES ($1, $2, $3, $4)`, [id, tenantId, agentId, wrappedDek]).then(() => undefined);
  }

  findDek(tenantId: string, id: string): Promise<{ id: string; agent_id: string; wrapped_dek: string } | undefined> {
    return this.one(`SELECT id, agent_id, wrapped_dek FROM deks WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }
}
