import { Injectable } from '@nestjs/common';
import { PageRequest } from '../../common/api/pagination';
import { BaseRepository } from '../../common/db/base.repository';
import { TenantId } from '../../common/db/tenant-id';
import { AuthProviderRow, OidcIdentityRow, OidcLoginRow } from './auth-provider.entity';

export type AuthProviderPatch = Partial<Pick<AuthProviderRow, 'name' | 'issuer' | 'client_id' | 'client_secret' | 'scopes' | 'allowed_email_domains' | 'groups_claim' | 'group_mappings' | 'enabled'>>;

const PATCHABLE = ['name', 'issuer', 'client_id', 'client_secret', 'scopes', 'allowed_email_domains', 'groups_claim', 'group_mappings', 'enabled'] as const;
const JSON_COLUMNS = new Set<string>(['client_secret', 'group_mappings']);

/** Identity providers of a tenant, the sign-ins in flight and the subjects they signed in as. */
@Injectable()
export class AuthProvidersRepository extends BaseRepository {
  insert(tenantId: TenantId, p: Pick<AuthProviderRow, 'id' | 'name' | 'issuer' | 'client_id' | 'client_secret' | 'scopes' | 'allowed_email_domains' | 'groups_claim' | 'group_mappings' | 'enabled' | 'created_by'>): Promise<AuthProviderRow> {
    return this.oneRequired<AuthProviderRow>(
      `INSERT INTO auth_providers (id, tenant_id, name, issuer, client_id, client_secret, scopes, allowed_email_domains, groups_claim, group_mappings, enabled, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [p.id, tenantId, p.name, p.issuer, p.client_id, JSON.stringify(p.client_secret), p.scopes, p.allowed_email_domains, p.groups_claim, JSON.stringify(p.group_mappings), p.enabled, p.created_by],
    );
  }

  list(tenantId: TenantId, page: PageRequest): Promise<AuthProviderRow[]> {
    return this.listKeyset<AuthProviderRow>('auth_providers', tenantId, page);
  }

  find(tenantId: TenantId, id: string, forUpdate = false): Promise<AuthProviderRow | undefined> {
    return this.findOneInTenant<AuthProviderRow>('auth_providers', tenantId, id, { lock: forUpdate ? 'FOR UPDATE' : undefined });
  }

  /**
   * The public start of a sign-in names only the provider: its id is the one lookup not scoped by a tenant the caller
   * proved (the row then fixes the tenant for everything that follows). Disabled providers are not found.
   */
  findEnabledForSignIn(id: string): Promise<AuthProviderRow | undefined> {
    return this.one<AuthProviderRow>(`SELECT * FROM auth_providers WHERE id = $1 AND enabled`, [id]);
  }

  update(tenantId: TenantId, id: string, patch: AuthProviderPatch): Promise<AuthProviderRow | undefined> {
    const keys = PATCHABLE.filter((k) => patch[k] !== undefined);
    const values = keys.map((k) => (JSON_COLUMNS.has(k) ? JSON.stringify(patch[k]) : patch[k]));
    const sets = [...keys.map((k, i) => `${k} = $${i + 3}`), 'updated_at = now()'];
    return this.one<AuthProviderRow>(`UPDATE auth_providers SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id, ...values]);
  }

  delete(tenantId: TenantId, id: string): Promise<AuthProviderRow | undefined> {
    return this.one<AuthProviderRow>(`DELETE FROM auth_providers WHERE tenant_id = $1 AND id = $2 RETURNING *`, [tenantId, id]);
  }

  insertLogin(tenantId: TenantId, l: Pick<OidcLoginRow, 'id' | 'provider_id' | 'state_hash' | 'nonce' | 'code_verifier' | 'expires_at'>): Promise<void> {
    return this.rows(
      `INSERT INTO oidc_logins (id, tenant_id, provider_id, state_hash, nonce, code_verifier, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [l.id, tenantId, l.provider_id, l.state_hash, l.nonce, l.code_verifier, l.expires_at],
    ).then(() => undefined);
  }

  /**
   * Consumes the sign-in whose `state` hashes to `stateHash`, once: the callback arrives without a tenant, and the
   * state is what names it. Unknown, used and expired states all return nothing.
   */
  consumeLogin(stateHash: string): Promise<OidcLoginRow | undefined> {
    return this.one<OidcLoginRow>(
      `UPDATE oidc_logins SET consumed_at = now() WHERE state_hash = $1 AND consumed_at IS NULL AND expires_at > now() RETURNING *`,
      [stateHash],
    );
  }

  /** Sign-ins started more than a day ago (used or not) are of no further use. */
  purgeLogins(tenantId: TenantId): Promise<void> {
    return this.rows(`DELETE FROM oidc_logins WHERE tenant_id = $1 AND expires_at < now() - interval '1 day'`, [tenantId]).then(() => undefined);
  }

  findIdentity(tenantId: TenantId, providerId: string, subject: string): Promise<OidcIdentityRow | undefined> {
    return this.one<OidcIdentityRow>(`SELECT * FROM oidc_identities WHERE tenant_id = $1 AND provider_id = $2 AND subject = $3`, [tenantId, providerId, subject]);
  }

  upsertIdentity(tenantId: TenantId, i: Pick<OidcIdentityRow, 'provider_id' | 'subject' | 'user_id' | 'email'>): Promise<void> {
    return this.rows(
      `INSERT INTO oidc_identities (tenant_id, provider_id, subject, user_id, email) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider_id, subject) DO UPDATE SET email = EXCLUDED.email, last_login_at = now()`,
      [tenantId, i.provider_id, i.subject, i.user_id, i.email],
    ).then(() => undefined);
  }
}
