import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { PolicyRow } from './policy.entity';
import { TenantId } from '../../common/db/tenant-id';

type PolicyDefinition = Pick<PolicyRow, 'name' | 'priority' | 'effect' | 'workflow_id' | 'match' | 'condition' | 'enabled'>;

@Injectable()
export class PoliciesRepository extends BaseRepository {
  insert(tenantId: TenantId, p: PolicyDefinition & Pick<PolicyRow, 'id' | 'created_by'>): Promise<PolicyRow> {
    return this.oneRequired<PolicyRow>(
      `INSERT INTO policies (id, tenant_id, name, priority, effect, workflow_id, match, condition, enabled, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10) RETURNING *`,
      [p.id, tenantId, p.name, p.priority, p.effect, p.workflow_id, JSON.stringify(p.match), p.condition, p.enabled, p.created_by],
    );
  }

  list(tenantId: TenantId, page: PageRequest): Promise<PolicyRow[]> {
    return this.listKeyset<PolicyRow>('policies', tenantId, page);
  }

  /** Every enabled policy of the tenant, highest priority first (then oldest first): the engine's input. */
  listEnabled(tenantId: TenantId): Promise<PolicyRow[]> {
    return this.rows<PolicyRow>(`SELECT * FROM policies WHERE tenant_id = $1 AND enabled ORDER BY priority DESC, id`, [tenantId]);
  }

  find(tenantId: TenantId, id: string): Promise<PolicyRow | undefined> {
    return this.findOneInTenant<PolicyRow>('policies', tenantId, id);
  }

  replace(tenantId: TenantId, id: string, p: PolicyDefinition): Promise<PolicyRow | undefined> {
    return this.one<PolicyRow>(
      `UPDATE policies SET name = $3, priority = $4, effect = $5, workflow_id = $6, match = $7::jsonb, condition = $8, enabled = $9
         WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, p.name, p.priority, p.effect, p.workflow_id, JSON.stringify(p.match), p.condition, p.enabled],
    );
  }

  delete(tenantId: TenantId, id: string): Promise<PolicyRow | undefined> {
    return this.one<PolicyRow>(`DELETE FROM policies WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }

  /** True while any policy (enabled or not) points at the workflow. */
  workflowInUse(tenantId: TenantId, workflowId: string): Promise<boolean> {
    return this.one(`SELECT 1 FROM policies WHERE tenant_id = $1 AND workflow_id = $2 LIMIT 1`, [tenantId, workflowId]).then(Boolean);
  }
}
