import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { AgentContextRow, AgentRow, EnrollmentTokenRow } from './agent.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class AgentsRepository extends BaseRepository {
  insertEnrollmentToken(tenantId: TenantId, t: Omit<EnrollmentTokenRow, 'tenant_id' | 'uses' | 'created_at'>): Promise<EnrollmentTokenRow> {
    return this.oneRequired<EnrollmentTokenRow>(
      `INSERT INTO agent_enrollment_tokens (id, tenant_id, workspace_id, environment_id, name, token_hash, expires_at, max_uses, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [t.id, tenantId, t.workspace_id, t.environment_id, t.name, t.token_hash, t.expires_at, t.max_uses, t.created_by],
    );
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

  insert(tenantId: TenantId, a: Pick<AgentRow, 'id' | 'workspace_id' | 'environment_id' | 'name' | 'cluster_name' | 'version' | 'capabilities' | 'secret_hash' | 'enrollment_token_id' | 'created_by'>): Promise<AgentRow> {
    return this.oneRequired<AgentRow>(
      `INSERT INTO agents (id, tenant_id, workspace_id, environment_id, name, cluster_name, version, capabilities, secret_hash, enrollment_token_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [a.id, tenantId, a.workspace_id, a.environment_id, a.name, a.cluster_name, a.version, a.capabilities, a.secret_hash, a.enrollment_token_id, a.created_by],
    );
  }

  list(tenantId: TenantId, workspaceIds: string[] | undefined, page: PageRequest): Promise<AgentRow[]> {
    return this.listKeyset<AgentRow>('agents', tenantId, page, { workspace_id: workspaceIds });
  }

  find(tenantId: TenantId, id: string): Promise<AgentRow | undefined> {
    return this.findOneInTenant<AgentRow>('agents', tenantId, id);
  }

  /** True while a live (not revoked) agent is enrolled in the environment. */
  hasLiveInEnvironment(tenantId: TenantId, environmentId: string): Promise<boolean> {
    return this.one<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM agents WHERE tenant_id = $1 AND environment_id = $2 AND revoked_at IS NULL) AS found`,
      [tenantId, environmentId],
    ).then((r) => r?.found === true);
  }

  /** True while an enrollment token for the environment can still be used (not expired, uses left). */
  hasUsableEnrollmentTokenInEnvironment(tenantId: TenantId, environmentId: string): Promise<boolean> {
    return this.one<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM agent_enrollment_tokens WHERE tenant_id = $1 AND environment_id = $2 AND expires_at > now() AND uses < max_uses) AS found`,
      [tenantId, environmentId],
    ).then((r) => r?.found === true);
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

  findDek(tenantId: TenantId, id: string): Promise<{ id: string; agent_id: string; wrapped_dek: string } | undefined> {
    return this.findOneInTenant<{ id: string; agent_id: string; wrapped_dek: string }>('deks', tenantId, id, { columns: ['id', 'agent_id', 'wrapped_dek'] });
  }
}
