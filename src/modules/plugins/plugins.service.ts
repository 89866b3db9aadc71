import { Inject, Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { isoRequired } from '../../common/api/time';
import { isCorePermission } from '../../common/auth/permission-catalog';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { envelopeDecrypt, envelopeEncrypt, fromB64, toB64 } from '../../common/crypto/envelope';
import { newId } from '../../common/crypto/ids';
import { Kms, KMS } from '../../common/crypto/kms';

import { AuditService } from '../audit/audit.service';
import { JobsService } from '../jobs/jobs.service';
import { RequestTypeRegistry } from '../requests/request-types';
import { RequestsService } from '../requests/requests.service';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { InstallPluginDto, ManifestValidationDto, PluginDto, PluginJobDto, PluginJobRequestDto, PluginManifestDto, UpdatePluginDto } from './dto/plugin.dto';
import { PLUGIN_CATALOG } from './plugin-catalog';
import { PluginManifest, writeOnlyKeys } from './plugin-manifest';
import { PluginRow, SealedSettings } from './plugin.entity';
import { PluginSchemas } from './plugin-schemas';
import {
  PluginAlreadyInstalledError,
  PluginDisabledError,
  PluginInUseError,
  PluginKeyConflictError,
  PluginManifestInvalidError,
  PluginNotFoundError,
  PluginSettingsInvalidError,
  PluginSourceError,
} from './plugins.errors';
import { PluginsRepository } from './plugins.repository';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { scopeNotFound } from '../workspaces/workspaces.errors';

export const MASKED = '***';
const settingsContext = (tenantId: string, pluginId: string) => `plugin-settings:${tenantId}:${pluginId}`;

/** Shown settings: the plain ones, and `"***"` for each write-only field that is set. */
function shownSettings(row: PluginRow): Record<string, unknown> {
  return { ...row.settings, ...Object.fromEntries((row.sealed_settings?.keys ?? []).map((k) => [k, MASKED])) };
}

const toPluginDto = (row: PluginRow): PluginDto => ({
  id: row.id,
  tenant_id: row.tenant_id,
  manifest_id: row.manifest_id,
  name: row.manifest.name,
  version: row.manifest.version,
  source: row.source,
  capability: row.capability,
  enabled: row.enabled,
  manifest: row.manifest as PluginManifestDto,
  settings: shownSettings(row),
  created_by: row.created_by,
  created_at: isoRequired(row.created_at),
  updated_at: isoRequired(row.updated_at),
});

/**
 * Plugins installed per tenant (SPEC §3 "Plugins", §7): manifests validated (JSON Schema 2020-12) and namespaced,
 * key clashes refused, settings validated against the manifest's `settings_schema` with write-only fields sealed by
 * the KMS, and jobs (`plugin.test`, `discovery.run`) for the agents with the plugin's capability.
 */
@Injectable()
export class PluginsService {
  constructor(
    private readonly repo: PluginsRepository,
    private readonly schemas: PluginSchemas,
    private readonly types: RequestTypeRegistry,
    private readonly requests: RequestsService,
    private readonly jobs: JobsService,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
    @Inject(KMS) private readonly kms: Kms,
  ) {}

  catalog(principal: Principal): PluginManifestDto[] {
    requireTenantPermission(principal, 'plugin.read');
    return PLUGIN_CATALOG as PluginManifestDto[];
  }

  /** Every problem of a manifest: schema, schemas that do not compile, namespace, and clashes with core or installed plugins. */
  async validate(principal: Principal, manifest: Record<string, unknown>): Promise<ManifestValidationDto> {
    requireTenantPermission(principal, 'plugin.read');
    const issues = this.schemas.validateManifest(manifest);
    const valid = this.schemas.asManifest(manifest);
    if (!issues.length && valid) issues.push(...(await this.clashes(principal.tenantId, valid)).map((c) => ({ path: c.path, message: `clashes with ${c.clashes_with}` })));
    return { valid: issues.length === 0, errors: issues };
  }

  @Transactional()
  async install(principal: Principal, dto: InstallPluginDto): Promise<PluginDto> {
    requireTenantPermission(principal, 'plugin.manage');
    if ((dto.catalog_id === undefined) === (dto.manifest === undefined)) throw new PluginSourceError('give catalog_id or manifest (exactly one)');
    const candidate: unknown = dto.catalog_id !== undefined ? PLUGIN_CATALOG.find((m) => m.id === dto.catalog_id) : dto.manifest;
    if (!candidate) throw new PluginSourceError(`not in the catalog; built-in plugins: ${PLUGIN_CATALOG.map((m) => m.id).join(', ')}`);
    const issues = this.schemas.validateManifest(candidate);
    const manifest = this.schemas.asManifest(candidate);
    if (issues.length || !manifest) throw new PluginManifestInvalidError(issues.map((i) => ({ field: i.path ? `manifest.${i.path}` : 'manifest', issue: i.message })));
    await this.repo.lockTenant(principal.tenantId);
    const clashes = await this.clashes(principal.tenantId, manifest);
    if (clashes.length) throw new PluginKeyConflictError(clashes.map((c) => ({ key: c.key, clashes_with: c.clashes_with })));

    const settings = dto.settings ?? {};
    this.checkSettings(manifest, settings);
    const id = newId('plugin');
    const stored = await this.split(principal.tenantId, id, manifest, settings);
    const row = await this.repo.insert(principal.tenantId, {
      id,
      manifest_id: manifest.id,
      source: dto.catalog_id !== undefined ? 'catalog' : 'custom',
      manifest,
      capability: manifest.capability,
      permission_keys: (manifest.permissions ?? []).map((p) => p.key),
      request_type_keys: (manifest.request_types ?? []).map((t) => t.key),
      settings: stored.settings,
      sealed_settings: stored.sealed,
      created_by: principal.userId ?? null,
    });
    if (!row) throw new PluginAlreadyInstalledError(manifest.id);
    await this.audit.record({ action: 'plugin.installed', resourceType: 'plugin', resourceId: row.id, payload: { manifest_id: row.manifest_id, version: manifest.version, source: row.source, capability: row.capability, settings: shownSettings(row) } });
    return toPluginDto(row);
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<PluginDto>> {
    requireTenantPermission(principal, 'plugin.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, page), page, toPluginDto);
  }

  async get(principal: Principal, id: string): Promise<PluginDto> {
    requireTenantPermission(principal, 'plugin.read');
    return toPluginDto(await this.find(principal.tenantId, id));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdatePluginDto): Promise<PluginDto> {
    requireTenantPermission(principal, 'plugin.manage');
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row) throw new PluginNotFoundError(id);
    const patch: Partial<Pick<PluginRow, 'enabled' | 'settings' | 'sealed_settings'>> = {};
    if (dto.enabled !== undefined) patch.enabled = dto.enabled;
    if (dto.settings !== undefined) {
      const merged = mergeSettings(await this.allSettings(row), dto.settings, writeOnlyKeys(row.manifest.settings_schema));
      this.checkSettings(row.manifest, merged);
      const stored = await this.split(row.tenant_id, row.id, row.manifest, merged);
      patch.settings = stored.settings;
      patch.sealed_settings = stored.sealed;
    }
    const updated = Object.keys(patch).length ? await this.repo.update(asTenantId(row.tenant_id), row.id, patch) : row;
    await this.audit.record({
      action: 'plugin.updated',
      resourceType: 'plugin',
      resourceId: row.id,
      payload: { manifest_id: row.manifest_id, enabled: { before: row.enabled, after: updated.enabled }, settings_changed: Object.keys(dto.settings ?? {}).sort() },
    });
    return toPluginDto(updated);
  }

  /** Uninstalls; 409 IN_USE while requests of its types are not final. */
  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'plugin.manage');
    const row = await this.repo.lock(principal.tenantId, id);
    if (!row) throw new PluginNotFoundError(id);
    const inFlight = await this.requests.countInFlight(asTenantId(row.tenant_id), row.request_type_keys);
    if (inFlight > 0) throw new PluginInUseError(inFlight);
    await this.repo.delete(asTenantId(row.tenant_id), row.id);
    await this.audit.record({ action: 'plugin.uninstalled', resourceType: 'plugin', resourceId: row.id, payload: { manifest_id: row.manifest_id } });
  }

  /** `plugin.test` / `discovery.run` for an agent of the workspace (and environment) with the plugin's capability. */
  @Transactional()
  async enqueueJob(principal: Principal, id: string, type: 'plugin.test' | 'discovery.run', dto: PluginJobRequestDto): Promise<PluginJobDto> {
    requireTenantPermission(principal, 'plugin.manage');
    const row = await this.find(principal.tenantId, id);
    if (!row.enabled) throw new PluginDisabledError(id);
    const scope = await this.workspaces.resolveScope(principal.tenantId, dto.environment_id ? 'environment' : 'workspace', dto.environment_id ?? dto.workspace_id);
    if (!scope || scope.workspaceId !== dto.workspace_id) throw scopeNotFound(dto.workspace_id, dto.environment_id);
    const job = await this.jobs.enqueue({
      tenantId: principal.tenantId,
      type,
      workspaceId: scope.workspaceId,
      environmentId: scope.environmentId,
      capability: row.capability,
      payload: { plugin_id: row.id },
      pluginId: row.id,
    });
    await this.audit.record({ action: type === 'plugin.test' ? 'plugin.test_requested' : 'plugin.discovery_requested', resourceType: 'plugin', resourceId: row.id, payload: { job_id: job.id, workspace_id: scope.workspaceId, environment_id: scope.environmentId } });
    return { job_id: job.id };
  }

  /** The installation's settings with write-only values decrypted: for the claim response of its jobs only. */
  async settingsForAgent(tenantId: TenantId, pluginId: string): Promise<Record<string, unknown>> {
    const row = await this.repo.find(tenantId, pluginId);
    return row ? this.allSettings(row) : {};
  }

  private async find(tenantId: TenantId, id: string): Promise<PluginRow> {
    const row = await this.repo.find(tenantId, id);
    if (!row) throw new PluginNotFoundError(id);
    return row;
  }

  /** Keys of `manifest` that core or another installed plugin of the tenant already defines. */
  private async clashes(tenantId: TenantId, manifest: PluginManifest): Promise<{ key: string; path: string; clashes_with: string }[]> {
    const permissions = (manifest.permissions ?? []).map((p, i) => ({ key: p.key, path: `permissions[${i}].key` }));
    const types = (manifest.request_types ?? []).map((t, i) => ({ key: t.key, path: `request_types[${i}].key` }));
    const found: { key: string; path: string; clashes_with: string }[] = [];
    for (const p of permissions) if (isCorePermission(p.key)) found.push({ ...p, clashes_with: 'core' });
    for (const t of types) if (this.types.isBuiltIn(t.key)) found.push({ ...t, clashes_with: 'core' });
    const others = (await this.repo.clashing(tenantId, permissions.map((p) => p.key), types.map((t) => t.key))).filter((o) => o.manifest_id !== manifest.id);
    for (const o of others) {
      const taken = new Set([...o.permission_keys, ...o.request_type_keys]);
      for (const k of [...permissions, ...types]) if (taken.has(k.key)) found.push({ ...k, clashes_with: `plugin:${o.manifest_id}` });
    }
    return found;
  }

  private checkSettings(manifest: PluginManifest, settings: Record<string, unknown>): void {
    const issues = this.schemas.check('settings', manifest.settings_schema ?? { type: 'object' }, settings);
    if (issues.length) throw new PluginSettingsInvalidError(issues.map((i) => ({ field: i.path, issue: i.message })));
  }

  /** Plain settings stay readable; the write-only ones become one KMS envelope bound to the tenant and plugin. */
  private async split(tenantId: string, pluginId: string, manifest: PluginManifest, settings: Record<string, unknown>): Promise<{ settings: Record<string, unknown>; sealed: SealedSettings | null }> {
    const secret = new Set(writeOnlyKeys(manifest.settings_schema));
    const plain = Object.fromEntries(Object.entries(settings).filter(([k]) => !secret.has(k)));
    const hidden = Object.fromEntries(Object.entries(settings).filter(([k]) => secret.has(k)));
    const keys = Object.keys(hidden).sort();
    if (!keys.length) return { settings: plain, sealed: null };
    const envelope = await envelopeEncrypt(this.kms, Buffer.from(JSON.stringify(hidden), 'utf8'), settingsContext(tenantId, pluginId));
    return { settings: plain, sealed: { keys, wrapped_dek: envelope.wrappedDek, iv: toB64(envelope.iv), tag: toB64(envelope.tag), ciphertext: toB64(envelope.ciphertext) } };
  }

  private async allSettings(row: PluginRow): Promise<Record<string, unknown>> {
    if (!row.sealed_settings) return { ...row.settings };
    const s = row.sealed_settings;
    const clear = await envelopeDecrypt(this.kms, { wrappedDek: s.wrapped_dek, iv: fromB64(s.iv), tag: fromB64(s.tag), ciphertext: fromB64(s.ciphertext) }, settingsContext(row.tenant_id, row.id));
    const hidden = JSON.parse(clear.toString('utf8')) as Record<string, unknown>;
    clear.fill(0);
    return { ...row.settings, ...hidden };
  }
}

/** RFC 7396 at the top level: `null` removes a field; a write-only field sent as `"***"` keeps its stored value. */
export function mergeSettings(current: Record<string, unknown>, patch: Record<string, unknown>, writeOnly: string[]): Record<string, unknown> {
  const merged = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k];
    else if (v === MASKED && writeOnly.includes(k)) continue;
    else merged[k] = v;
  }
  return merged;
}
