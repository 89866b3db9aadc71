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

  list(tenantId: TenantId, filter: { status: 'active' | 'deleted'; ids?: string[] }, page: PageRequest): Promise<WorkspaceRow[]> {
    return this.listKeyset<WorkspaceRow>('workspaces', tenantId, page, { status: filter.status, id: filter.ids });
  }

  async find(tenantId: TenantId, id: string, includeDeleted = false): Promise<WorkspaceRow | undefined> {
    const workspace = await this.findOneInTenant<WorkspaceRow>('workspaces', tenantId, id);
    return workspace && (includeDeleted || workspace.status !== 'deleted') ? workspace : undefined;
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

  listEnvironments(tenantId: TenantId, workspaceId: string, page: PageRequest): Promise<EnvironmentRow[]> {
    return this.listKeyset<EnvironmentRow>('environments', tenantId, page, { workspace_id: workspaceId });
  }

  findEnvironment(tenantId: TenantId, id: string): Promise<EnvironmentRow | undefined> {
    return this.one<EnvironmentRow>(
      `SELECT e.* FROM environments e JOIN workspaces w ON w.id = e.workspace_id AND w.status <> 'deleted'
        WHERE e.tenant_id = $1 AND e.id = $2`,
      [tenantId, id],
    );
  }

  deleteEnvironment(tenantId: TenantId, id: string): Promise<EnvironmentRow | undefined> {
    return this.one<EnvironmentRow>(`DELETE FROM environments WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }
}
