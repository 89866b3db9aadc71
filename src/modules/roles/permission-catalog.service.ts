import { Injectable } from '@nestjs/common';
import { CORE_PERMISSIONS, isCorePermission } from '../../common/auth/permission-catalog';
import { PermissionDto } from './dto/role.dto';
import { TenantId } from '../../common/db/tenant-id';

/** A permission beyond the core catalog, with where it comes from (`plugin:<id>`). */
export interface ExtraPermission {
  key: string;
  description: string;
  source: string;
}

/** Where permissions beyond the core come from (the tenant's enabled plugins). */
export interface PermissionSource {
  /** Full entries, for the catalog. */
  permissionsOf(tenantId: TenantId): Promise<ExtraPermission[]>;
  /** Keys only (the principal is resolved on every call: this must stay cheap). */
  keysOf(tenantId: TenantId): Promise<string[]>;
}

/** Built-in roles that hold every permission of the tenant, plugin permissions included. */
const ALL_PERMISSION_ROLES = new Set(['owner', 'admin']);

/**
 * The permission catalog of a tenant: the core permissions plus what the registered sources (enabled plugins) add.
 * Per tenant, because plugins are installed per tenant; resolved on every call, so disabling a plugin applies at once.
 */
@Injectable()
export class PermissionCatalogService {
  private readonly sources: PermissionSource[] = [];

  addSource(source: PermissionSource): void {
    this.sources.push(source);
  }

  async list(tenantId: TenantId): Promise<PermissionDto[]> {
    const core = Object.entries(CORE_PERMISSIONS).map(([key, description]) => ({ key, description, source: 'core' }));
    const extra: PermissionDto[] = [];
    for (const source of this.sources) extra.push(...(await source.permissionsOf(tenantId)));
    return [...core, ...extra.sort((a, b) => a.key.localeCompare(b.key))];
  }

  /** The keys of `keys` that are in neither the core catalog nor the tenant's enabled plugins. */
  async unknown(tenantId: TenantId, keys: string[]): Promise<string[]> {
    const candidates = keys.filter((k) => !isCorePermission(k));
    if (!candidates.length) return [];
    const extra = new Set(await this.extraKeys(tenantId));
    return candidates.filter((k) => !extra.has(k));
  }

  /**
   * What a role assignment grants now: its stored permissions minus those no longer in the catalog (a disabled or
   * removed plugin's), and for the built-in `owner` and `admin` every enabled plugin permission as well.
   * `extraKeys` is loaded by the caller once per principal (see `needsExtraKeys`).
   */
  effective(role: { permissions: string[]; role_name: string; built_in: boolean }, extraKeys: ReadonlySet<string>): string[] {
    const kept = role.permissions.filter((p) => isCorePermission(p) || extraKeys.has(p));
    if (role.built_in && ALL_PERMISSION_ROLES.has(role.role_name)) return [...new Set([...kept, ...extraKeys])];
    return kept;
  }

  /** Whether `effective` needs the tenant's extra keys for these roles (skips the lookup for core-only callers). */
  needsExtraKeys(roles: { permissions: string[]; role_name: string; built_in: boolean }[]): boolean {
    return this.sources.length > 0 && roles.some((r) => (r.built_in && ALL_PERMISSION_ROLES.has(r.role_name)) || r.permissions.some((p) => !isCorePermission(p)));
  }

  async extraKeys(tenantId: TenantId): Promise<string[]> {
    // One after the other: inside a transaction they share one connection, which runs one query at a time.
    const keys: string[] = [];
    for (const source of this.sources) keys.push(...(await source.keysOf(tenantId)));
    return keys;
  }
}
