import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { PluginRow } from './plugin.entity';
import { TenantId } from '../../common/db/tenant-id';

@Injectable()
export class PluginsRepository extends BaseRepository {
  /** Serialises installs and key changes of one tenant (the clash check and the insert are then one decision). */
  async lockTenant(tenantId: TenantId): Promise<void> {
    await this.rows(`SELECT pg_advisory_xact_lock(hashtext('countersign:plugins:' || $1))`, [tenantId]);
  }

  insert(tenantId: TenantId, p: Pick<PluginRow, 'id' | 'manifest_id' | 'source' | 'manifest' | 'capability' | 'permission_keys' | 'request_type_keys' | 'settings' | 'sealed_settings' | 'created_by'>): Promise<PluginRow | undefined> {
    return this.one<PluginRow>(
      `INSERT INTO plugins (id, tenant_id, manifest_id, source, manifest, capability, permission_keys, request_type_keys, settings, sealed_settings, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (tenant_id, manifest_id) DO NOTHING RETURNING *`,
      [p.id, tenantId, p.manifest_id, p.source, JSON.stringify(p.manifest), p.capability, p.permission_keys, p.request_type_keys, JSON.stringify(p.settings), p.sealed_settings === null ? null : JSON.stringify(p.sealed_settings), p.created_by],
    );
  }

  list(tenantId: TenantId, page: PageRequest): Promise<PluginRow[]> {
    return this.listKeyset<PluginRow>('plugins', tenantId, page);
  }

  find(tenantId: TenantId, id: string): Promise<PluginRow | undefined> {
    return this.findOneInTenant<PluginRow>('plugins', tenantId, id);
  }

  lock(tenantId: TenantId, id: string): Promise<PluginRow | undefined> {
    return this.findOneInTenant<PluginRow>('plugins', tenantId, id, { lock: 'FOR UPDATE' });
  }

  /** The installed plugin that defines request type `key` in the tenant, enabled or not. */
  byRequestType(tenantId: TenantId, key: string): Promise<PluginRow | undefined> {
    // FOR SHARE: a request created under this plugin and the plugin's removal (FOR UPDATE) serialise.
    return this.one<PluginRow>(`SELECT * FROM plugins WHERE tenant_id = $1 AND $2 = ANY(request_type_keys) FOR SHARE`, [tenantId, key]);
  }

  /** The tenant's enabled plugins (for the permission catalog and the type list). */
  enabled(tenantId: TenantId): Promise<PluginRow[]> {
    return this.rows<PluginRow>(`SELECT * FROM plugins WHERE tenant_id = $1 AND enabled ORDER BY id`, [tenantId]);
  }

  /** Permission keys of the tenant's enabled plugins (read when a principal is resolved: keys only). */
  async enabledPermissionKeys(tenantId: TenantId): Promise<string[]> {
    const rows = await this.rows<{ key: string }>(`SELECT unnest(permission_keys) AS key FROM plugins WHERE tenant_id = $1 AND enabled`, [tenantId]);
    return rows.map((r) => r.key);
  }

  /** Other installed plugins of the tenant that define one of these keys. */
  clashing(tenantId: TenantId, permissionKeys: string[], typeKeys: string[]): Promise<Pick<PluginRow, 'manifest_id' | 'permission_keys' | 'request_type_keys'>[]> {
    return this.rows(
      `SELECT manifest_id, permission_keys, request_type_keys FROM plugins
        WHERE tenant_id = $1 AND (permission_keys && $2::text[] OR request_type_keys && $3::text[] OR permission_keys && $3::text[] OR request_type_keys && $2::text[])`,
      [tenantId, permissionKeys, typeKeys],
    );
  }

  update(tenantId: TenantId, id: string, patch: Partial<Pick<PluginRow, 'enabled' | 'settings' | 'sealed_settings'>>): Promise<PluginRow> {
    const entries = Object.entries(patch);
    const sets = entries.map(([k], i) => `${k} = $${i + 3}`);
    const values = entries.map(([, v]) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v));
    return this.oneRequired<PluginRow>(`UPDATE plugins SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id, ...values]);
  }

  async delete(tenantId: TenantId, id: string): Promise<void> {
    await this.rows(`DELETE FROM plugins WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }
}
