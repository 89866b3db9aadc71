import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { SecretRow } from './secret.entity';
import { TenantId } from '../../common/db/tenant-id';

export interface SecretFilter {
  clusterName?: string;
  provider?: string;
  refPrefix?: string;
  status?: string;
  workspaceIds?: string[];
  workspaceId?: string;
  environmentId?: string;
  labels?: Record<string, string>;
}

export interface ReportedSecret {
  cluster_name: string;
  provider: string;
  ref: string;
  labels: Record<string, string>;
  status: string;
}

@Injectable()
export class SecretsRepository extends BaseRepository {
  /**
   * Upserts a batch (one statement) and says per row whether it was created, changed or unchanged. `xmax = 0` marks a
   * fresh insert; unchanged rows are touched only for `last_seen_at`.
   */
  upsertBatch(
    tenantId: TenantId,
    scope: { workspaceId: string; environmentId: string | null; agentId: string },
    items: (ReportedSecret & { id: string })[],
  ): Promise<{ id: string; outcome: 'created' | 'updated' | 'unchanged' }[]> {
    return this.rows(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($5::jsonb) AS x(id text, cluster_name text, provider text, ref text, labels jsonb, status text)),
       prior AS (
         SELECT s.cluster_name, s.provider, s.ref, s.labels, s.status FROM secrets s JOIN input i
           ON s.tenant_id = $1 AND s.workspace_id = $2 AND s.cluster_name = i.cluster_name AND s.provider = i.provider AND s.ref = i.ref),
       upserted AS (
         INSERT INTO secrets AS s (id, tenant_id, workspace_id, environment_id, agent_id, cluster_name, provider, ref, labels, status)
         SELECT i.id, $1, $2, $3, $4, i.cluster_name, i.provider, i.ref, i.labels, i.status FROM input i
         ON CONFLICT (tenant_id, workspace_id, cluster_name, provider, ref) DO UPDATE
           SET labels = EXCLUDED.labels, status = EXCLUDED.status, agent_id = EXCLUDED.agent_id, environment_id = EXCLUDED.environment_id,
               last_seen_at = now(), removed_at = NULL,
               updated_at = CASE WHEN s.labels IS DISTINCT FROM EXCLUDED.labels OR s.status IS DISTINCT FROM EXCLUDED.status THEN now() ELSE s.updated_at END
           -- Another live agent's secret is not re-homed by this one (a revoked agent's successor may take it over).
           WHERE s.agent_id IS NULL OR s.agent_id = EXCLUDED.agent_id
              OR EXISTS (SELECT 1 FROM agents a WHERE a.id = s.agent_id AND a.revoked_at IS NOT NULL)
         RETURNING s.id, s.cluster_name, s.provider, s.ref, (xmax = 0) AS inserted)
       SELECT u.id,
              CASE WHEN u.inserted THEN 'created'
                   WHEN p.labels IS DISTINCT FROM i.labels OR p.status IS DISTINCT FROM i.status THEN 'updated'
                   ELSE 'unchanged' END AS outcome
         FROM upserted u JOIN input i ON i.cluster_name = u.cluster_name AND i.provider = u.provider AND i.ref = u.ref
         LEFT JOIN prior p ON p.cluster_name = u.cluster_name AND p.provider = u.provider AND p.ref = u.ref`,
      [tenantId, scope.workspaceId, scope.environmentId, scope.agentId, JSON.stringify(items)],
    );
  }

  /** Full sync: what the agent's clusters no longer report is `removed`. */
  markAbsentRemoved(tenantId: TenantId, workspaceId: string, agentId: string, clusters: string[], keepIds: string[]): Promise<number> {
    return this.rows(
      `UPDATE secrets SET status = 'removed', removed_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND workspace_id = $2 AND agent_id = $3 AND cluster_name = ANY($4) AND status <> 'removed' AND NOT (id = ANY($5)) RETURNING 1`,
      [tenantId, workspaceId, agentId, clusters, keepIds],
    ).then((r) => r.length);
  }

  list(tenantId: TenantId, f: SecretFilter, page: PageRequest): Promise<SecretRow[]> {
    return this.rows<SecretRow>(
      `SELECT * FROM secrets WHERE tenant_id = $1
          AND ($2::text IS NULL OR cluster_name = $2) AND ($3::text IS NULL OR provider = $3)
          AND ($4::text IS NULL OR starts_with(ref, $4)) AND ($5::text IS NULL OR status = $5)
          AND ($6::text[] IS NULL OR workspace_id = ANY($6)) AND ($7::text IS NULL OR workspace_id = $7)
          AND ($8::text IS NULL OR environment_id = $8) AND labels @> $9::jsonb
          AND ($10::text IS NULL OR id > $10)
        ORDER BY id LIMIT $11`,
      [tenantId, f.clusterName ?? null, f.provider ?? null, f.refPrefix ?? null, f.status ?? null, f.workspaceIds ?? null, f.workspaceId ?? null, f.environmentId ?? null, JSON.stringify(f.labels ?? {}), page.after ?? null, page.limit + 1],
    );
  }

  /** True while the environment holds a secret its agents still report (not `removed`). */
  hasPresentInEnvironment(tenantId: TenantId, environmentId: string): Promise<boolean> {
    return this.one<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM secrets WHERE tenant_id = $1 AND environment_id = $2 AND status <> 'removed') AS found`, [
      tenantId,
      environmentId,
    ]).then((r) => r?.found === true);
  }

  find(tenantId: TenantId, id: string): Promise<SecretRow | undefined> {
    return this.findOneInTenant<SecretRow>('secrets', tenantId, id);
  }
}
