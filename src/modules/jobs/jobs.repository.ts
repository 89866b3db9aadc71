import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { JobRow, JobStatus } from './job.entity';
import { TenantId } from '../../common/db/tenant-id';

export const JOBS_CHANNEL = 'countersign_jobs';

/** Jobs not run yet: waiting in the queue or held by an agent. */
const PENDING_STATUSES: readonly JobStatus[] = ['queued', 'leased'];

export interface Claimant {
  tenantId: TenantId;
  agentId: string;
  workspaceId: string;
  environmentId: string | null;
  capabilities: string[];
  hasPublicKey: boolean;
}

@Injectable()
export class JobsRepository extends BaseRepository {
  insert(tenantId: TenantId, j: Pick<JobRow, 'id' | 'workspace_id' | 'environment_id' | 'capability' | 'target_agent_id' | 'requires_public_key' | 'type' | 'payload' | 'max_attempts' | 'plugin_id' | 'owner_type' | 'owner_id' | 'correlation_id' | 'created_by'>): Promise<JobRow> {
    return this.oneRequired<JobRow>(
      `INSERT INTO jobs (id, tenant_id, workspace_id, environment_id, capability, target_agent_id, requires_public_key, type, payload, max_attempts, plugin_id, owner_type, owner_id, correlation_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
      [j.id, tenantId, j.workspace_id, j.environment_id, j.capability, j.target_agent_id, j.requires_public_key, j.type, JSON.stringify(j.payload), j.max_attempts, j.plugin_id, j.owner_type, j.owner_id, j.correlation_id, j.created_by],
    );
  }

  /** Wakes long-polling claimers on every replica when the surrounding transaction commits. */
  async notify(tenantId: TenantId): Promise<void> {
    await this.rows(`SELECT pg_notify($1, $2)`, [JOBS_CHANNEL, tenantId]);
  }

  /**
   * One statement: the oldest queued jobs this agent may run (its workspace, its environment or none, one of its
   * capabilities or pinned to it, a public key when the job needs one), as many as there are lease tokens, skipping rows
   * other claimers hold; each is leased with its own token. Oldest first.
   */
  async claim(c: Claimant, leaseTokens: readonly string[], leaseSeconds: number): Promise<JobRow[]> {
    if (leaseTokens.length === 0) return [];
    // The row number (which token a job gets) is computed apart from the locking select: FOR UPDATE takes no window.
    const rows = await this.rows<JobRow>(
      `WITH locked AS (
         SELECT id FROM jobs
          WHERE tenant_id = $1 AND status = 'queued' AND workspace_id = $2
            AND (environment_id IS NULL OR $3::text IS NULL OR environment_id = $3)
            AND (target_agent_id = $4 OR (target_agent_id IS NULL AND capability = ANY($5::text[])))
            AND (NOT requires_public_key OR $6)
          ORDER BY id
          FOR UPDATE SKIP LOCKED
          LIMIT cardinality($7::text[])),
       numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM locked)
       UPDATE jobs j SET status = 'leased', agent_id = $4, attempt = j.attempt + 1, lease_token = ($7::text[])[numbered.n],
              lease_expires_at = now() + make_interval(secs => $8), updated_at = now()
         FROM numbered WHERE j.tenant_id = $1 AND j.id = numbered.id
       RETURNING j.*`,
      [c.tenantId, c.workspaceId, c.environmentId, c.agentId, c.capabilities, c.hasPublicKey, leaseTokens, leaseSeconds],
    );
    return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Undoes a claim whose client disconnected (same lease token only); the attempt does not count. */
  async unclaim(tenantId: TenantId, id: string, leaseToken: string): Promise<void> {
    await this.rows(
      `UPDATE jobs SET status = 'queued', agent_id = NULL, lease_token = NULL, lease_expires_at = NULL, attempt = attempt - 1, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 AND status = 'leased'`,
      [tenantId, id, leaseToken],
    );
    await this.notify(tenantId);
  }

  lockForCompletion(tenantId: TenantId, id: string): Promise<JobRow | undefined> {
    return this.findOneInTenant<JobRow>('jobs', tenantId, id, { lock: 'FOR UPDATE' });
  }

  /** The tenant's jobs among `ids`, locked in id order (concurrent batches over the same jobs cannot deadlock). */
  lockManyForCompletion(tenantId: TenantId, ids: readonly string[]): Promise<JobRow[]> {
    return this.rows<JobRow>(`SELECT * FROM jobs WHERE tenant_id = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE`, [tenantId, ids]);
  }

  /** Ends several jobs in one statement (each with its own outcome); the caller holds their locks. */
  completeMany(tenantId: TenantId, items: readonly { id: string; status: 'succeeded' | 'failed'; result: Record<string, unknown> | null; error: string | null }[]): Promise<JobRow[]> {
    if (items.length === 0) return Promise.resolve([]);
    return this.rows<JobRow>(
      `UPDATE jobs j SET status = v.status, result = v.result::jsonb, error = v.error, completed_lease_token = j.lease_token, lease_token = NULL,
              lease_expires_at = NULL, completed_at = now(), updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, status, result, error)
        WHERE j.tenant_id = $1 AND j.id = v.id
       RETURNING j.*`,
      [tenantId, items.map((i) => i.id), items.map((i) => i.status), items.map((i) => (i.result === null ? null : JSON.stringify(i.result))), items.map((i) => i.error)],
    );
  }

  /** Leases of a revoked agent end now: its jobs are queued again for another agent. */
  releaseLeasesOf(tenantId: TenantId, agentId: string): Promise<JobRow[]> {
    return this.rows<JobRow>(
      `UPDATE jobs SET status = 'queued', lease_token = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE tenant_id = $1 AND agent_id = $2 AND status = 'leased' RETURNING *`,
      [tenantId, agentId],
    );
  }

  /** The agent's leases (only those of `jobIds` when given) run `leaseSeconds` from now. */
  extendLeasesOf(tenantId: TenantId, agentId: string, leaseSeconds: number, jobIds?: string[]): Promise<number> {
    return this.rows(
      `UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
        WHERE tenant_id = $1 AND agent_id = $2 AND status = 'leased' AND ($4::text[] IS NULL OR id = ANY($4::text[])) RETURNING 1`,
      [tenantId, agentId, leaseSeconds, jobIds ?? null],
    ).then((r) => r.length);
  }

  /** Expired leases across tenants: back to the queue, or `dead` after the last attempt. */
  expireLeases(limit: number): Promise<JobRow[]> {
    return this.rows<JobRow>(
      `WITH expired AS (
         SELECT id FROM jobs WHERE status = 'leased' AND lease_expires_at < now() ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED LIMIT $1)
       UPDATE jobs j SET status = CASE WHEN j.attempt >= j.max_attempts THEN 'dead' ELSE 'queued' END,
              lease_token = NULL, lease_expires_at = NULL, updated_at = now(),
              error = CASE WHEN j.attempt >= j.max_attempts THEN 'lease expired on the last attempt' ELSE j.error END,
              completed_at = CASE WHEN j.attempt >= j.max_attempts THEN now() ELSE NULL END
         FROM expired WHERE j.id = expired.id
       RETURNING j.*`,
      [limit],
    );
  }

  list(tenantId: TenantId, f: { status?: JobStatus; agentId?: string; requestId?: string; workspaceIds?: string[] }, page: PageRequest): Promise<JobRow[]> {
    return this.listKeyset<JobRow>('jobs', tenantId, page, {
      status: f.status,
      agent_id: f.agentId,
      owner_type: f.requestId === undefined ? undefined : 'request',
      owner_id: f.requestId,
      workspace_id: f.workspaceIds,
    });
  }

  listForOwner(tenantId: TenantId, ownerType: string, ownerId: string): Promise<JobRow[]> {
    return this.rows<JobRow>(`SELECT * FROM jobs WHERE tenant_id = $1 AND owner_type = $2 AND owner_id = $3 ORDER BY id`, [tenantId, ownerType, ownerId]);
  }

  /** True while a job for the environment is queued or leased. */
  hasPendingInEnvironment(tenantId: TenantId, environmentId: string): Promise<boolean> {
    return this.one<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM jobs WHERE tenant_id = $1 AND environment_id = $2 AND status = ANY($3::text[])) AS found`, [
      tenantId,
      environmentId,
      PENDING_STATUSES,
    ]).then((r) => r?.found === true);
  }

  find(tenantId: TenantId, id: string): Promise<JobRow | undefined> {
    return this.findOneInTenant<JobRow>('jobs', tenantId, id);
  }
}
