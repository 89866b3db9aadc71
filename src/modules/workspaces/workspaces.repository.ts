import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { EnvironmentRow, WorkspaceRow } from './workspace.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class WorkspacesRepository extends BaseRepository {
  insert(tenantId: TenantId, w: Pick<WorkspaceRow, 'id' | 'slug' | 'display_name' | 'capabilities'>): Promise<WorkspaceRow | undefined> {
    return this.one<WorkspaceRow>(
      `INSERT INTO workspaces (id, tenant_id, slug, display_name, capabilities) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, slug) WHERE status <> 'deleted' DO NOTHING RETURNING *`,
      [w.id, tenantId, w.slug, w.display_name, w.capabilities],
    );
  }

  slugTaken(tenantId: TenantId, slug: string, exceptId?: string): Promise<boolean> {
    return this.one(`SELECT 1 FROM workspaces WHERE tenant_id = $1 AND slug = $2 AND status <> 'deleted' AND id IS DISTINCT FROM $3`, [
      tenantId,
      slug,
      exceptId ?? null,
    ]).then(Boolean);
  }

  list(tenantId: string, filter: { status: 'active' | 'deleted'; ids?: string[] }, page: PageRequest): Promise<WorkspaceRow[]> {
    return this.rows<WorkspaceRow>(
      `SELECT * FROM workspaces WHERE tenant_id = $1 AND status = $2 AND ($3::text[] IS NULL OR id = ANY($3))
         AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5`,
      [tenantId, filter.status, filter.ids ?? null, page.after ?? null, page.limit + 1],
    );
  }

  find(tenantId: string, id: string, includeDeleted = false): Promise<WorkspaceRow | undefined> {
    return this.one<WorkspaceRow>(`SELECT * FROM workspaces WHERE tenant_id = $1 AND id = $2 AND ($3 OR status <> 'deleted')`, [
      tenantId,
      id,
      includeDeleted,
    ]);
  }

  update(tenantId: TenantId, id: string, patch: Partial<Pick<WorkspaceRow, 'display_name' | 'capabilities'>>): Promise<WorkspaceRow | undefined> {
    return this.one<WorkspaceRow>(
      `UPDATE workspaces SET display_name = COALESCE($3, display_name), capabilities = COALESCE($4, capabilities)
         WHERE tenant_id = $1 AND id = $2 AND status <> 'deleted' RETURNING *`,
      [tenantId, id, patch.display_name ?? null, patch.capabilities ?? null],
    );
  }

  softDelete(tenantId: TenantId, id: string): Promise<WorkspaceRow | undefined> {
    return this.one<WorkspaceRow>(
      `UPDATE workspaces SET status = 'deleted', deleted_at = now() WHERE tenant_id = $1 AND id = $2 AND status <> 'deleted' RETURNING *`,
      [tenantId, id],
    );
  }

  insertEnvironment(tenantId: TenantId, e: Pick<EnvironmentRow, 'id' | 'workspace_id' | 'name' | 'protected'>): Promise<EnvironmentRow | undefined> {
    return this.one<EnvironmentRow>(
      `INSERT INTO environments (id, tenant_id, workspace_id, name, protected) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id, name) DO NOTHING RETURNING *`,
      [e.id, tenantId, e.workspace_id, e.name, e.protected],
    );
  }

  listEnvironments(tenantId: string, workspaceId: string, page: PageRequest): Promise<EnvironmentRow[]> {
    return this.rows<EnvironmentRow>(
      `SELECT * FROM environments WHERE tenant_id = $1 AND workspace_id = $2 AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4`,
      [tenantId, workspaceId, page.after ?? null, page.limit + 1],
    );
  }

  findEnvironment(tenantId: TenantId, id: string): Promise<EnvironmentRow | undefined> {
    return this.one<EnvironmentRow>(
      `SELECT e.* FROM environments e JOIN workspaces w ON w.id = e.workspace_id AND w.status <> 'deleted'
        WHERE e.tenant_id = $1 AND e.id = $2`,
      [tenantId, id],
    );
  }

  /**
   * What still depends on a workspace or environment: live agents, enrollment tokens, inventory, open requests, pending
   * jobs (read-only look at those tables; deleting under them would re-home agents and requests to the wider scope).
   */
  async usage(tenantId: string, column: 'workspace_id' | 'environment_id', id: string, executingRequestsOnly: boolean): Promise<string[]> {
    const [row] = await this.rows<Record<string, boolean>>(
      `SELECT
         EXISTS (SELECT 1 FROM agents WHERE tenant_id = $1 AND ${column} = $2 AND revoked_at IS NULL) AS agents,
         EXISTS (SELECT 1 FROM agent_enrollment_tokens WHERE tenant_id = $1 AND ${column} = $2 AND expires_at > now() AND uses < max_uses) AS enrollment_tokens,
         EXISTS (SELECT 1 FROM secrets WHERE tenant_id = $1 AND ${column} = $2 AND status <> 'removed') AS secrets,
         EXISTS (SELECT 1 FROM requests WHERE tenant_id = $1 AND ${column} = $2
                   AND status = ANY(CASE WHEN $3 THEN ARRAY['executing'] ELSE ARRAY['draft','submitted','pending_approval','approved','executing','rolling_back'] END)) AS requests,
         EXISTS (SELECT 1 FROM jobs WHERE tenant_id = $1 AND ${column} = $2 AND status IN ('queued', 'leased')) AS jobs`,
      [tenantId, id, executingRequestsOnly],
    );
    return Object.entries(row).filter(([, used]) => used).map(([what]) => what);
  }

  deleteEnvironment(tenantId: string, id: string): Promise<EnvironmentRow | undefined> {
    return this.one<EnvironmentRow>(`DELETE FROM environments WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }
}
