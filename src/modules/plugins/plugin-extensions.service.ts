import { Injectable } from '@nestjs/common';
import { JobRow } from '../jobs/job.entity';
import { JobsService } from '../jobs/jobs.service';
import { RequestTypeDefinition, RequestTypeRegistry } from '../requests/request-types';
import { ExtraPermission, PermissionCatalogService } from '../roles/permission-catalog.service';
import { PluginRow } from './plugin.entity';
import { PluginSchemas } from './plugin-schemas';
import { PluginsRepository } from './plugins.repository';
import { PluginsService } from './plugins.service';
import { asTenantId, TenantId } from '../../common/db/tenant-id';

/**
 * What an installed plugin adds, wired into the modules that use it: its request types into the request-type
 * registry, its permissions into the permission catalog (and so into grants), and its settings into the claim
 * response of its jobs. Everything is read per call from the tenant's rows: disabling a plugin applies at once.
 */
@Injectable()
export class PluginExtensionsService {
  constructor(
    private readonly repo: PluginsRepository,
    private readonly schemas: PluginSchemas,
    private readonly plugins: PluginsService,
    types: RequestTypeRegistry,
    catalog: PermissionCatalogService,
    jobs: JobsService,
  ) {
    types.addSource({ find: (tenantId, key) => this.requestType(tenantId, key), keys: (tenantId) => this.requestTypeKeys(tenantId) });
    catalog.addSource({ permissionsOf: (tenantId) => this.permissionsOf(tenantId), keysOf: (tenantId) => this.repo.enabledPermissionKeys(tenantId) });
    jobs.registerClaimPayload((job) => this.claimPayload(job));
  }

  private async requestType(tenantId: TenantId, key: string): Promise<RequestTypeDefinition | undefined> {
    const row = await this.repo.byRequestType(tenantId, key);
    const type = row?.manifest.request_types?.find((t) => t.key === key);
    if (!row || !type) return undefined;
    return {
      key: type.key,
      description: type.description,
      needsSecret: false,
      value: 'forbidden',
      jobType: type.key,
      requiresPublicKey: false,
      rollback: type.rollback === true,
      capability: row.capability,
      requiredPermission: type.required_permission,
      validateTarget: (target) => this.schemas.check('target', type.target_schema, target).map((i) => ({ field: i.path, issue: i.message })),
      plugin: { id: row.id, manifestId: row.manifest_id, enabled: row.enabled },
    };
  }

  private async requestTypeKeys(tenantId: TenantId): Promise<string[]> {
    return (await this.repo.enabled(tenantId)).flatMap((r) => r.request_type_keys);
  }

  private async permissionsOf(tenantId: TenantId): Promise<ExtraPermission[]> {
    return (await this.repo.enabled(tenantId)).flatMap((r: PluginRow) => (r.manifest.permissions ?? []).map((p) => ({ key: p.key, description: p.description, source: `plugin:${r.manifest_id}` })));
  }

  private async claimPayload(job: JobRow): Promise<Record<string, unknown>> {
    if (job.plugin_id === null) return {}; // a job of a built-in type carries no plugin settings
    return { settings: await this.plugins.settingsForAgent(asTenantId(job.tenant_id), job.plugin_id) };
  }
}
