import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { WorkflowRow } from './workflow.entity';
import { TenantId } from '../../common/db/tenant-id';

type WorkflowDefinition = Pick<WorkflowRow, 'name' | 'description' | 'stages' | 'approval_timeout_seconds' | 'auto_execute'>;

@Injectable()
export class WorkflowsRepository extends BaseRepository {
  insert(tenantId: TenantId, w: WorkflowDefinition & Pick<WorkflowRow, 'id' | 'created_by'>): Promise<WorkflowRow> {
    return this.oneRequired<WorkflowRow>(
      `INSERT INTO workflows (id, tenant_id, name, description, stages, approval_timeout_seconds, auto_execute, created_by)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING *`,
      [w.id, tenantId, w.name, w.description, JSON.stringify(w.stages), w.approval_timeout_seconds, w.auto_execute, w.created_by],
    );
  }

  /** Creates the tenant's built-in default unless it exists (concurrent callers: one insert wins, the others no-op). */
  insertBuiltIn(tenantId: TenantId, w: WorkflowDefinition & Pick<WorkflowRow, 'id'>): Promise<WorkflowRow | undefined> {
    return this.one<WorkflowRow>(
      `INSERT INTO workflows (id, tenant_id, name, description, stages, approval_timeout_seconds, auto_execute, built_in)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, true)
         ON CONFLICT (tenant_id) WHERE built_in DO NOTHING RETURNING *`,
      [w.id, tenantId, w.name, w.description, JSON.stringify(w.stages), w.approval_timeout_seconds, w.auto_execute],
    );
  }

  findBuiltIn(tenantId: TenantId): Promise<WorkflowRow | undefined> {
    return this.one<WorkflowRow>(`SELECT * FROM workflows WHERE tenant_id = $1 AND built_in`, [tenantId]);
  }

  list(tenantId: TenantId, page: PageRequest): Promise<WorkflowRow[]> {
    return this.listKeyset<WorkflowRow>('workflows', tenantId, page);
  }

  find(tenantId: TenantId, id: string): Promise<WorkflowRow | undefined> {
    return this.findOneInTenant<WorkflowRow>('workflows', tenantId, id);
  }

  /** Row lock for replace/delete, so a concurrent replace cannot skip a version. */
  findForUpdate(tenantId: TenantId, id: string): Promise<WorkflowRow | undefined> {
    return this.findOneInTenant<WorkflowRow>('workflows', tenantId, id, { lock: 'FOR UPDATE' });
  }

  replace(tenantId: TenantId, id: string, w: WorkflowDefinition): Promise<WorkflowRow | undefined> {
    return this.one<WorkflowRow>(
      `UPDATE workflows SET name = $3, description = $4, stages = $5::jsonb, approval_timeout_seconds = $6, auto_execute = $7, version = version + 1
         WHERE tenant_id = $1 AND id = $2 AND NOT built_in RETURNING *`,
      [tenantId, id, w.name, w.description, JSON.stringify(w.stages), w.approval_timeout_seconds, w.auto_execute],
    );
  }

  /** Whether a stage of one of the tenant's workflows names the group as approvers. */
  namesGroup(tenantId: TenantId, groupId: string): Promise<boolean> {
    return this.one<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM workflows w, jsonb_array_elements(w.stages) s WHERE w.tenant_id = $1 AND s->'approver_group_ids' ? $2) AS found`,
      [tenantId, groupId],
    ).then((r) => r?.found === true);
  }

  delete(tenantId: TenantId, id: string): Promise<WorkflowRow | undefined> {
    return this.one<WorkflowRow>(`DELETE FROM workflows WHERE tenant_id = $1 AND id = $2 AND NOT built_in RETURNING *`, [tenantId, id]);
  }
}
