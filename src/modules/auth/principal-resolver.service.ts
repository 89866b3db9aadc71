import { Injectable } from '@nestjs/common';
import { InvalidCredentialsError, TokenExpiredError, TokenRevokedError } from '../../common/auth/auth.errors';
import { Principal } from '../../common/auth/principal';
import { AccessTokenClaims, PrincipalResolver } from '../../common/auth/principal-resolver';
import { AgentsService } from '../agents/agents.service';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { RolesService } from '../roles/roles.service';
import { SessionsService } from '../users/sessions.service';
import { asTenantId } from '../../common/db/tenant-id';

/**
 * Credentials → principal, from the database on every request: a revoked session, assignment or key, a disabled
 * member or a suspended tenant is refused on the next call on every replica (no cache to go stale).
 */
@Injectable()
export class PrincipalResolverService implements PrincipalResolver {
  constructor(
    private readonly sessions: SessionsService,
    private readonly roles: RolesService,
    private readonly apiKeys: ApiKeysService,
    private readonly agents: AgentsService,
  ) {}

  fromAgentSecret(pathAgentId: string | undefined, secret: string): Promise<Principal> {
    return this.agents.authenticate(pathAgentId, secret);
  }

  async fromAccessToken(claims: AccessTokenClaims): Promise<Principal> {
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string' || typeof claims.tid !== 'string') {
      throw new InvalidCredentialsError('The access token is invalid.');
    }
    const ctx = await this.sessions.context(claims.sid);
    if (!ctx || ctx.user_id !== claims.sub || ctx.tenant_id !== claims.tid) throw new InvalidCredentialsError('The access token is invalid.');
    if (ctx.session_revoked_at) throw new TokenRevokedError('The session has been revoked.');
    if (ctx.session_expires_at.getTime() <= Date.now()) throw new TokenExpiredError();
    if (ctx.tenant_status !== 'active') throw new TokenRevokedError('The tenant is not active.');
    if (ctx.user_status !== 'active' || ctx.member_status !== 'active') throw new TokenRevokedError('The user is not active in this tenant.');
    return {
      type: 'user',
      id: ctx.user_id,
      tenantId: asTenantId(ctx.tenant_id),
      label: ctx.email,
      userId: ctx.user_id,
      sessionId: ctx.session_id,
      platformAdmin: ctx.is_platform_admin,
      grants: await this.roles.grantsFor(asTenantId(ctx.tenant_id), ctx.user_id),
    };
  }

  async fromApiKey(key: string): Promise<Principal> {
    const row = await this.apiKeys.authenticate(key);
    const creatorGrants = await this.roles.grantsFor(asTenantId(row.tenant_id), row.created_by);
    return {
      type: 'api_key',
      id: row.id,
      tenantId: asTenantId(row.tenant_id),
      label: row.name,
      userId: row.created_by,
      platformAdmin: false,
      grants: this.apiKeys.effectiveGrants(row, creatorGrants),
    };
  }
}
