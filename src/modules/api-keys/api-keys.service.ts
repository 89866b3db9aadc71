import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { iso, isoRequired } from '../../common/api/time';
import { PrivilegeEscalationError, TokenRevokedError, InvalidCredentialsError, TokenExpiredError } from '../../common/auth/auth.errors';
import { notHeldAt } from '../../common/auth/escalation';
import { isCorePermission } from '../../common/auth/permission-catalog';
import { Grant, holdsTenantWide, Principal } from '../../common/auth/principal';
import { newId } from '../../common/crypto/ids';
import { hmacHex, newOpaqueToken } from '../../common/crypto/tokens';
import { ValidationFailedError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { ApiKeyContextRow, ApiKeyRow } from './api-key.entity';
import { ApiKeyNotFoundError } from './api-keys.errors';
import { ApiKeysRepository } from './api-keys.repository';
import { AuditService } from '../audit/audit.service';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';

const toApiKeyDto = (k: ApiKeyRow): ApiKeyDto => ({
  id: k.id,
  tenant_id: k.tenant_id,
  name: k.name,
  prefix: k.prefix,
  permissions: k.permissions,
  created_by: k.created_by,
  expires_at: iso(k.expires_at),
  revoked_at: iso(k.revoked_at),
  last_used_at: iso(k.last_used_at),
  created_at: isoRequired(k.created_at),
});

/** `last_used_at` is written at most once per key per minute per process, in one batched statement. */
const TOUCH_INTERVAL_MS = 60_000;

@Injectable()
export class ApiKeysService implements OnModuleDestroy {
  private readonly lastTouched = new Map<string, number>();
  private pendingTouches = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly repo: ApiKeysRepository,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {
    this.flushTimer = setInterval(() => void this.flushTouches(), 5_000);
    this.flushTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushTouches();
  }

  @Transactional()
  async create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const permissions = [...new Set(dto.permissions)].sort();
    const unknown = permissions.filter((p) => !isCorePermission(p));
    if (unknown.length) throw new ValidationFailedError(unknown.map((p) => ({ field: 'permissions', issue: `unknown permission "${p}"` })));
    if (dto.expires_at && dto.expires_at.getTime() <= Date.now()) throw new ValidationFailedError([{ field: 'expires_at', issue: 'must be in the future' }]);
    const missing = notHeldAt(principal, permissions, { type: 'tenant' });
    if (missing.length) throw new PrivilegeEscalationError(missing, 'tenant scope');

    const key = newOpaqueToken('csk');
    const row = await this.repo.insert(principal.tenantId, {
      id: newId('apiKey'),
      name: dto.name,
      prefix: key.slice(0, 12),
      key_hash: hmacHex(this.config.apiKeyPepper, key),
      permissions,
      // Only users and their keys hold apikey.manage (agents have no grants): there is a user behind the caller.
      created_by: required(principal.userId, `user behind ${principal.type} ${principal.id}`),
      expires_at: dto.expires_at ?? null,
    });
    await this.audit.record({ action: 'api_key.created', resourceType: 'api_key', resourceId: row.id, payload: { name: row.name, prefix: row.prefix, permissions, expires_at: row.expires_at } });
    return { ...toApiKeyDto(row), key };
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<ApiKeyDto>> {
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, this.creatorFilter(principal), page), page, toApiKeyDto);
  }

  async get(principal: Principal, id: string): Promise<ApiKeyDto> {
    const row = await this.repo.find(principal.tenantId, id, this.creatorFilter(principal));
    if (!row) throw new ApiKeyNotFoundError(id);
    return toApiKeyDto(row);
  }

  async getRow(tenantId: TenantId, id: string): Promise<ApiKeyRow> {
    const row = await this.repo.find(tenantId, id);
    if (!row) throw new ApiKeyNotFoundError(id);
    return row;
  }

  @Transactional()
  async revoke(principal: Principal, id: string): Promise<ApiKeyDto> {
    const row = await this.repo.revoke(principal.tenantId, id, this.creatorFilter(principal));
    if (!row) throw new ApiKeyNotFoundError(id);
    await this.audit.record({ action: 'api_key.revoked', resourceType: 'api_key', resourceId: id, payload: { name: row.name, prefix: row.prefix } });
    return toApiKeyDto(row);
  }

  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    const row = await this.repo.delete(principal.tenantId, id, this.creatorFilter(principal));
    if (!row) throw new ApiKeyNotFoundError(id);
    await this.audit.record({ action: 'api_key.deleted', resourceType: 'api_key', resourceId: id, payload: { name: row.name, prefix: row.prefix } });
  }

  /**
   * Checks a presented key (HMAC under the pepper, looked up by its unique hash: the comparison is the index's exact
   * match of a keyed digest, so timing reveals nothing about the key). Throws 401 for unknown, revoked, expired keys,
   * suspended tenants and creators who left or were disabled. During a pepper rotation the digests under the previous
   * peppers are looked up as well, and a valid key found under one is re-hashed under the current pepper.
   */
  async authenticate(key: string): Promise<ApiKeyContextRow> {
    if (!/^csk_[A-Za-z0-9_-]{43}$/.test(key)) throw new InvalidCredentialsError('The API key is invalid.');
    const [current, ...previous] = [this.config.apiKeyPepper, ...this.config.apiKeyPepperPrevious].map((pepper) => hmacHex(pepper, key));
    const row = await this.repo.findContextByHash([current, ...previous]);
    if (!row) throw new InvalidCredentialsError('The API key is invalid.');
    if (row.revoked_at) throw new TokenRevokedError('The API key has been revoked.');
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw new TokenExpiredError();
    if (row.tenant_status !== 'active') throw new TokenRevokedError('The tenant is not active.');
    if (row.creator_member_status !== 'active') throw new TokenRevokedError('The key creator is no longer active in this tenant.');
    if (row.key_hash !== current) {
      await this.repo.rehash(asTenantId(row.tenant_id), row.id, row.key_hash, current);
      this.lastTouched.set(row.id, Date.now());
      return { ...row, key_hash: current };
    }
    // The use is noted by the caller (PrincipalResolverService), once per request whether resolved or cached.
    return row;
  }

  /** A key acts with its own permissions, tenant-wide, but never beyond what its creator holds there now. */
  effectiveGrants(key: ApiKeyRow, creatorGrants: Grant[]): Grant[] {
    const creatorTenantWide = new Set(creatorGrants.filter((g) => g.scopeType === 'tenant').map((g) => g.permission));
    return key.permissions.filter((p) => creatorTenantWide.has(p)).map((permission) => ({ permission, scopeType: 'tenant', scopeId: key.tenant_id }));
  }

  /**
   * Other users' keys are tenant-level (SPEC §2): with `apikey.manage` at tenant scope every key of the tenant, else
   * only the caller's own (their creator is the caller); the others are 404, as if absent.
   */
  private creatorFilter(principal: Principal): string | null {
    return holdsTenantWide(principal, 'apikey.manage') ? null : (principal.userId ?? principal.id);
  }

  /** Records a use of the key (`last_used_at`, written at most once per interval); also for cached resolutions. */
  noteUse(id: string): void {
    const now = Date.now();
    if (now - (this.lastTouched.get(id) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.lastTouched.set(id, now);
    this.pendingTouches.add(id);
  }

  private async flushTouches(): Promise<void> {
    if (this.pendingTouches.size === 0) return;
    const ids = [...this.pendingTouches];
    this.pendingTouches = new Set();
    await this.repo.touch(ids).catch(() => ids.forEach((id) => this.lastTouched.delete(id)));
  }
}
