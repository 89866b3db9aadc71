import { Injectable } from '@nestjs/common';
import { InvalidCredentialsError, TokenExpiredError, TokenRevokedError } from '../../common/auth/auth.errors';
import { Principal } from '../../common/auth/principal';
import { AccessTokenClaims, PrincipalResolver } from '../../common/auth/principal-resolver';
import { AgentsService } from '../agents/agents.service';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { RolesService } from '../roles/roles.service';
import { SessionsService } from '../users/sessions.service';
import { asTenantId } from '../../common/db/tenant-id';
import { PrincipalCache } from './principal-cache';

/**
 * Credentials → principal: from the database, reused for at most a second through `PrincipalCache`, which forgets a
 * tenant's principals the moment a write that can revoke touches it (on every replica), so a revoked session,
 * assignment or key, a disabled member or a suspended tenant is still refused on the next call.
 */
@Injectable()
export class PrincipalResolverService implements PrincipalResolver {
  constructor(
    private readonly sessions: SessionsService,
    private readonly roles: RolesService,
    private readonly apiKeys: ApiKeysService,
    private readonly agents: AgentsService,
    private readonly cache: PrincipalCache,
  ) {}

  fromAgentSecret(pathAgentId: string | undefined, secret: string): Promise<Principal> {
    return this.cache.resolve('agent', `${pathAgentId ?? ''}|${secret}`, async () => ({ principal: await this.agents.authenticate(pathAgentId, secret) }));
  }

  fromAccessToken(claims: AccessTokenClaims): Promise<Principal> {
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string' || typeof claims.tid !== 'string') {
      return Promise.reject(new InvalidCredentialsError('The access token is invalid.'));
    }
    return this.cache.resolve('session', `${claims.sid}|${claims.sub}|${claims.tid}`, () => this.resolveSession(claims));
  }

  async fromApiKey(key: string): Promise<Principal> {
    const principal = await this.cache.resolve('api_key', key, () => this.resolveApiKey(key));
    // A cached resolution is still a use of the key.
    this.apiKeys.noteUse(principal.id);
    return principal;
  }

  private async resolveSession(claims: AccessTokenClaims): Promise<{ principal: Principal; validUntil: number }> {
    const ctx = await this.sessions.context(claims.sid);
    if (!ctx || ctx.user_id !== claims.sub || ctx.tenant_id !== claims.tid) throw new InvalidCredentialsError('The access token is invalid.');
    if (ctx.session_revoked_at) throw new TokenRevokedError('The session has been revoked.');
    if (ctx.session_expires_at.getTime() <= Date.now()) throw new TokenExpiredError();
    if (ctx.tenant_status !== 'active') throw new TokenRevokedError('The tenant is not active.');
    if (ctx.user_status !== 'active' || ctx.member_status !== 'active') throw new TokenRevokedError('The user is not active in this tenant.');
    const principal: Principal = {
      type: 'user',
      id: ctx.user_id,
      tenantId: asTenantId(ctx.tenant_id),
      label: ctx.email,
      userId: ctx.user_id,
      sessionId: ctx.session_id,
      platformAdmin: ctx.is_platform_admin,
      grants: await this.roles.grantsFor(asTenantId(ctx.tenant_id), ctx.user_id),
    };
    return { principal, validUntil: ctx.session_expires_at.getTime() };
  }

  private async resolveApiKey(key: string): Promise<{ principal: Principal; validUntil?: number }> {
    const row = await this.apiKeys.authenticate(key);
    const creatorGrants = await this.roles.grantsFor(asTenantId(row.tenant_id), row.created_by);
    const principal: Principal = {
      type: 'api_key',
      id: row.id,
      tenantId: asTenantId(row.tenant_id),
      label: row.name,
      userId: row.created_by,
      platformAdmin: false,
      grants: this.apiKeys.effectiveGrants(row, creatorGrants),
    };
    return { principal, validUntil: row.expires_at?.getTime() };
  }
}
