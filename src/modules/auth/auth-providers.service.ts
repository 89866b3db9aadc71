import { Inject, Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { PaginationQueryDto } from '../../common/api/pagination.dto';
import { isoRequired } from '../../common/api/time';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { envelopeDecrypt, envelopeEncrypt, fromB64, toB64 } from '../../common/crypto/envelope';
import { newId } from '../../common/crypto/ids';
import { Kms, KMS } from '../../common/crypto/kms';
import { TenantId } from '../../common/db/tenant-id';
import { FieldIssue, ValidationFailedError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { GroupsService } from '../groups/groups.service';
import { AuthProviderRow, GroupMappings, SealedClientSecret } from './auth-provider.entity';
import { AuthProviderPatch, AuthProvidersRepository } from './auth-providers.repository';
import { AuthProviderDto, CreateAuthProviderDto, UpdateAuthProviderDto } from './dto/auth-provider.dto';
import { AuthProviderNotFoundError } from './oidc.errors';
import { issuerUrlProblem } from './oidc/issuer-url';
import { OidcConfigurations } from './oidc/oidc-configurations';

const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
const MAX_MAPPINGS = 200;
const GROUP_ID = /^grp_[0-9A-HJKMNP-TV-Z]{26}$/;

const secretContext = (tenantId: string, providerId: string) => `auth-provider-secret:${tenantId}:${providerId}`;

/** Audit payloads carry what changed, never the client secret (only that it was replaced). */
const auditView = (p: AuthProviderRow) => ({
  name: p.name,
  issuer: p.issuer,
  client_id: p.client_id,
  scopes: p.scopes,
  allowed_email_domains: p.allowed_email_domains,
  groups_claim: p.groups_claim,
  group_mappings: p.group_mappings,
  enabled: p.enabled,
});

/**
 * A tenant's OpenID Connect identity providers. Managing them needs `tenant.manage` (the owner's permission): whoever
 * controls the provider can sign in as any member of the tenant whose verified email it vouches for, so this is an
 * owner's decision, not an admin's. Reading needs `tenant.read`. The client secret is sealed under the KMS (bound to
 * the tenant and provider) and never leaves the service but towards the provider's token endpoint.
 */
@Injectable()
export class AuthProvidersService {
  constructor(
    private readonly repo: AuthProvidersRepository,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly groups: GroupsService,
    private readonly configurations: OidcConfigurations,
    @Inject(KMS) private readonly kms: Kms,
  ) {}

  @Transactional()
  async create(principal: Principal, dto: CreateAuthProviderDto): Promise<AuthProviderDto> {
    requireTenantPermission(principal, 'tenant.manage');
    const issuer = this.checkIssuer(dto.issuer);
    const mappings = this.checkMappings(dto.group_mappings ?? {});
    const id = newId('authProvider');
    // Discovery at registration: a wrong issuer or an unreachable provider is found now, not at someone's first sign-in.
    await this.configurations.probe({ issuer, client_id: dto.client_id }, dto.client_secret);
    const row = await this.repo.insert(principal.tenantId, {
      id,
      name: dto.name ?? new URL(issuer).host,
      issuer,
      client_id: dto.client_id,
      client_secret: await this.seal(principal.tenantId, id, dto.client_secret),
      scopes: withOpenId(dto.scopes ?? DEFAULT_SCOPES),
      allowed_email_domains: normaliseDomains(dto.allowed_email_domains ?? []),
      groups_claim: dto.groups_claim ?? null,
      group_mappings: mappings,
      enabled: dto.enabled ?? true,
      created_by: principal.userId ?? principal.id,
    });
    await this.groups.setProviderManaged(principal.tenantId, id, Object.values(mappings));
    await this.audit.record({ action: 'auth_provider.created', resourceType: 'auth_provider', resourceId: id, payload: auditView(row) });
    return this.toDto(row);
  }

  async list(principal: Principal, query: PaginationQueryDto): Promise<Page<AuthProviderDto>> {
    requireTenantPermission(principal, 'tenant.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.list(principal.tenantId, page), page, (r) => this.toDto(r));
  }

  async get(principal: Principal, id: string): Promise<AuthProviderDto> {
    requireTenantPermission(principal, 'tenant.read');
    return this.toDto(await this.find(principal.tenantId, id));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateAuthProviderDto): Promise<AuthProviderDto> {
    requireTenantPermission(principal, 'tenant.manage');
    const current = await this.find(principal.tenantId, id, true);
    const patch: AuthProviderPatch = {
      name: dto.name,
      issuer: dto.issuer !== undefined ? this.checkIssuer(dto.issuer) : undefined,
      client_id: dto.client_id,
      client_secret: dto.client_secret !== undefined ? await this.seal(principal.tenantId, id, dto.client_secret) : undefined,
      scopes: dto.scopes !== undefined ? withOpenId(dto.scopes) : undefined,
      allowed_email_domains: dto.allowed_email_domains !== undefined ? normaliseDomains(dto.allowed_email_domains) : undefined,
      groups_claim: dto.groups_claim,
      group_mappings: dto.group_mappings !== undefined ? this.checkMappings(dto.group_mappings) : undefined,
      enabled: dto.enabled,
    };
    if (patch.issuer !== undefined || patch.client_id !== undefined || dto.client_secret !== undefined) {
      await this.configurations.probe({ issuer: patch.issuer ?? current.issuer, client_id: patch.client_id ?? current.client_id }, dto.client_secret ?? (await this.clientSecret(current)));
    }
    const row = await this.repo.update(principal.tenantId, id, patch);
    if (!row) throw new AuthProviderNotFoundError(id);
    if (patch.group_mappings) await this.groups.setProviderManaged(principal.tenantId, id, Object.values(patch.group_mappings));
    const changes = Object.fromEntries(Object.entries(auditView(row)).filter(([k]) => (patch as Record<string, unknown>)[k] !== undefined));
    await this.audit.record({
      action: 'auth_provider.updated',
      resourceType: 'auth_provider',
      resourceId: id,
      payload: { changes, ...(dto.client_secret !== undefined ? { client_secret_replaced: true } : {}), previous: pick(auditView(current), Object.keys(changes)) },
    });
    return this.toDto(row);
  }

  /** Its groups become local again (members kept); its sign-ins in flight and subject links go with it. */
  @Transactional()
  async remove(principal: Principal, id: string): Promise<void> {
    requireTenantPermission(principal, 'tenant.manage');
    await this.find(principal.tenantId, id, true);
    await this.groups.setProviderManaged(principal.tenantId, id, []);
    const row = await this.repo.delete(principal.tenantId, id);
    if (!row) throw new AuthProviderNotFoundError(id);
    await this.audit.record({ action: 'auth_provider.deleted', resourceType: 'auth_provider', resourceId: id, payload: { issuer: row.issuer, client_id: row.client_id } });
  }

  /** The provider a public sign-in names (enabled only); 404 otherwise. */
  async forSignIn(id: string): Promise<AuthProviderRow> {
    const row = await this.repo.findEnabledForSignIn(id);
    if (!row) throw new AuthProviderNotFoundError(id);
    return row;
  }

  async clientSecret(row: AuthProviderRow): Promise<string> {
    const s = row.client_secret;
    const clear = await envelopeDecrypt(this.kms, { wrappedDek: s.wrapped_dek, iv: fromB64(s.iv), tag: fromB64(s.tag), ciphertext: fromB64(s.ciphertext) }, secretContext(row.tenant_id, row.id));
    return clear.toString('utf8');
  }

  toDto(r: AuthProviderRow): AuthProviderDto {
    return {
      id: r.id,
      tenant_id: r.tenant_id,
      name: r.name,
      issuer: r.issuer,
      client_id: r.client_id,
      scopes: r.scopes,
      allowed_email_domains: r.allowed_email_domains,
      groups_claim: r.groups_claim,
      group_mappings: r.group_mappings,
      enabled: r.enabled,
      redirect_uri: this.config.oidc.redirectUri,
      start_path: `/api/v1/auth/oidc/${r.id}/start`,
      created_at: isoRequired(r.created_at),
      updated_at: isoRequired(r.updated_at),
    };
  }

  private async find(tenantId: TenantId, id: string, forUpdate = false): Promise<AuthProviderRow> {
    const row = await this.repo.find(tenantId, id, forUpdate);
    if (!row) throw new AuthProviderNotFoundError(id);
    return row;
  }

  private checkIssuer(issuer: string): string {
    const problem = issuerUrlProblem(issuer, this.config.oidc.allowInsecureIssuers);
    if (problem) throw new ValidationFailedError([{ field: 'issuer', issue: problem }]);
    return issuer;
  }

  private checkMappings(mappings: Record<string, unknown>): GroupMappings {
    const entries = Object.entries(mappings);
    const issues: FieldIssue[] = [];
    if (entries.length > MAX_MAPPINGS) issues.push({ field: 'group_mappings', issue: `must have at most ${MAX_MAPPINGS} entries` });
    for (const [claim, groupId] of entries.slice(0, MAX_MAPPINGS + 1)) {
      if (claim.length < 1 || claim.length > 256) issues.push({ field: 'group_mappings', issue: 'claim values must be 1-256 characters' });
      else if (typeof groupId !== 'string' || !GROUP_ID.test(groupId)) issues.push({ field: `group_mappings.${claim.slice(0, 64)}`, issue: 'must be a group id (grp_…)' });
      if (issues.length >= 10) break;
    }
    if (issues.length) throw new ValidationFailedError(issues);
    return Object.fromEntries(entries) as GroupMappings;
  }

  private async seal(tenantId: string, providerId: string, secret: string): Promise<SealedClientSecret> {
    const e = await envelopeEncrypt(this.kms, Buffer.from(secret, 'utf8'), secretContext(tenantId, providerId));
    return { wrapped_dek: e.wrappedDek, iv: toB64(e.iv), tag: toB64(e.tag), ciphertext: toB64(e.ciphertext) };
  }
}

function withOpenId(scopes: string[]): string[] {
  const unique = [...new Set(scopes)];
  return unique.includes('openid') ? unique : ['openid', ...unique];
}

function normaliseDomains(domains: string[]): string[] {
  return [...new Set(domains.map((d) => d.toLowerCase()))];
}

function pick<T extends Record<string, unknown>>(obj: T, keys: string[]): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keys.includes(k))) as Partial<T>;
}
