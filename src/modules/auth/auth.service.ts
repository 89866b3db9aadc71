import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { ClsService } from 'nestjs-cls';
import { InvalidCredentialsError, TokenRevokedError } from '../../common/auth/auth.errors';
import { Principal } from '../../common/auth/principal';
import type { AuditAction } from '../../common/audit/audit-actions';
import { RequestContextStore } from '../../common/context/request-context';
import { newId } from '../../common/crypto/ids';
import { sha256Hex } from '../../common/crypto/tokens';

import { AppConfig } from '../../config/app-config';
import { TenantsService, toTenantDto } from '../tenants/tenants.service';
import { SessionsService } from '../users/sessions.service';
import { UsersService, toUserDto } from '../users/users.service';
import { SetupAlreadyCompletedError, SsoSessionTenantBoundError } from './auth.errors';
import { PasswordLoginDisabledError } from './oidc.errors';
import { AcceptInvitationDto, LoginDto, MeDto, SetupDto, SetupResultDto, SetupStatusDto, TokenPairDto } from './dto/auth.dto';
import { SetupTokenService } from './setup-token.service';
import { TokenService } from './token.service';
import { AuditService } from '../audit/audit.service';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';
import { TenantNotFoundError } from '../tenants/tenants.errors';

type RotateOutcome = { kind: 'ok'; pair: TokenPairDto } | { kind: 'reused' } | { kind: 'invalid' } | { kind: 'revoked' };

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tenants: TenantsService,
    private readonly tokens: TokenService,
    private readonly config: AppConfig,
    private readonly cls: ClsService<RequestContextStore>,
    private readonly audit: AuditService,
    private readonly setupToken: SetupTokenService,
  ) {}

  async setupStatus(): Promise<SetupStatusDto> {
    return { setup_required: (await this.users.countUsers()) === 0 };
  }

  /**
   * First run: the platform admin and the `default` tenant (owner). The lock makes concurrent setups serialise. In
   * production the caller must also hold the setup token (`SetupTokenService`).
   */
  @Transactional()
  async setup(dto: SetupDto): Promise<SetupResultDto> {
    await this.users.lockSetup();
    if ((await this.users.countUsers()) > 0) throw new SetupAlreadyCompletedError();
    this.setupToken.verify(dto.setup_token);
    const user = await this.users.createPlatformAdmin(dto.email, dto.name, dto.password);
    const { tenant } = await this.tenants.createWithOwner({ slug: 'default', display_name: 'Default', plan: 'free' }, { userId: user.id });
    await this.audit.record({ action: 'setup.completed', resourceType: 'tenant', resourceId: tenant.id, tenantId: tenant.id, actor: { type: 'user', id: user.id, label: user.email }, payload: { admin_email: user.email } });
    this.setupToken.completed();
    return { user: toUserDto(user), tenant: toTenantDto(tenant) };
  }

  /**
   * Same 401 for an unknown email and a wrong password, after one bcrypt comparison and the same queries either way.
   * The failure is audited in each tenant the account belongs to (their admins see attacks on their members), or
   * without a tenant for an unknown email.
   */
  @Transactional()
  async login(dto: LoginDto): Promise<TokenPairDto> {
    const { user, valid } = await this.users.checkPassword(dto.email, dto.password);
    const memberships = valid && user ? await this.users.memberships(user.id) : [];
    const candidates = dto.tenant_id ? memberships.filter((m) => m.tenant_id === dto.tenant_id) : memberships;
    if (!valid || !user || !candidates.length) {
      await this.recordLoginFailure(dto.email, user?.id, valid ? 'no_active_tenant' : 'invalid_credentials');
      throw new InvalidCredentialsError('The email or password is wrong.');
    }
    // Without a tenant named, the first one that still takes passwords from this person.
    for (const m of candidates) {
      if (await this.passwordLoginAllowed(asTenantId(m.tenant_id), user.id)) return this.openSession(user.id, asTenantId(m.tenant_id), 'session.created', { method: 'password' });
    }
    await this.recordLoginFailure(dto.email, user.id, 'password_login_disabled');
    throw new PasswordLoginDisabledError();
  }

  /**
   * A tenant with `password_login: false` signs in through its identity provider; its active owners keep their
   * password (break-glass: the way back in when the provider is down or misconfigured).
   */
  private async passwordLoginAllowed(tenantId: TenantId, userId: string): Promise<boolean> {
    const tenant = await this.tenants.findById(tenantId);
    if (tenant?.password_login !== false) return true;
    return this.users.isActiveOwner(tenantId, userId);
  }

  /** One `session.login_failed` per tenant of the account (none known: one without a tenant), each committed on its own. */
  private async recordLoginFailure(email: string, userId: string | undefined, reason: string): Promise<void> {
    // The lookup runs for unknown emails too (it finds nothing), so both cases cost the same queries.
    const tenantIds = await this.users.memberTenantIds(userId ?? '');
    for (const tenantId of tenantIds.length ? tenantIds : [null]) {
      await this.audit.recordDetached({
        action: 'session.login_failed',
        resourceType: 'session',
        outcome: 'failure',
        tenantId,
        actor: { type: 'anonymous', id: null, label: email },
        payload: { email, reason },
      });
    }
  }

  async refresh(refreshToken: string): Promise<TokenPairDto> {
    const outcome = await this.rotate(refreshToken);
    if (outcome.kind === 'ok') return outcome.pair;
    if (outcome.kind === 'invalid') throw new InvalidCredentialsError('The refresh token is invalid.');
    throw new TokenRevokedError(outcome.kind === 'reused' ? 'The refresh token was already used; the session has been revoked.' : 'The session has been revoked.');
  }

  /**
   * One transaction, token row locked: a used token means someone replayed it, so the whole session (the token family)
   * is revoked and that revocation commits even though the call answers 401.
   */
  @Transactional()
  private async rotate(refreshToken: string): Promise<RotateOutcome> {
    const token = await this.sessions.lockRefreshToken(sha256Hex(refreshToken));
    if (!token) return { kind: 'invalid' };
    if (token.used_at) {
      await this.sessions.revoke(token.session_id, 'refresh_token_reuse');
      const ctx = await this.sessions.context(token.session_id);
      await this.audit.record({
        action: 'session.refresh_reused',
        resourceType: 'session',
        resourceId: token.session_id,
        outcome: 'failure',
        tenantId: ctx?.tenant_id ?? null,
        actor: { type: 'user', id: ctx?.user_id ?? null, label: ctx?.email ?? null },
        payload: { refresh_token_id: token.id, session_revoked: true },
      });
      return { kind: 'reused' };
    }
    const ctx = await this.sessions.context(token.session_id);
    if (!ctx || ctx.session_revoked_at || ctx.session_expires_at.getTime() <= Date.now()) return { kind: 'revoked' };
    if (ctx.tenant_status !== 'active' || ctx.user_status !== 'active' || ctx.member_status !== 'active') return { kind: 'revoked' };
    await this.sessions.markRefreshTokenUsed(token.id);
    const user = await this.users.findMember(asTenantId(ctx.tenant_id), ctx.user_id);
    if (!user) return { kind: 'revoked' }; // the membership went away since the context was read
    const tokens = await this.tokens.issue({ id: ctx.session_id, tenant_id: ctx.tenant_id, user_id: ctx.user_id, expires_at: ctx.session_expires_at });
    await this.audit.record({ action: 'session.refreshed', resourceType: 'session', resourceId: ctx.session_id, tenantId: ctx.tenant_id, actor: { type: 'user', id: ctx.user_id, label: ctx.email } });
    return { kind: 'ok', pair: { ...tokens, user: toUserDto(user, user.member_status) } };
  }

  @Transactional()
  async logout(principal: Principal): Promise<void> {
    if (principal.sessionId) await this.sessions.revoke(principal.sessionId, 'logout');
    await this.audit.record({ action: 'session.revoked', resourceType: 'session', resourceId: principal.sessionId ?? null, payload: { reason: 'logout' } });
  }

  async me(principal: Principal): Promise<MeDto> {
    const user = await this.users.findMember(principal.tenantId, principal.id);
    const tenant = await this.tenants.findById(principal.tenantId);
    const byScope = new Map<string, { scope_type: string; scope_id: string; permissions: Set<string> }>();
    for (const g of principal.grants) {
      const key = `${g.scopeType}:${g.scopeId}`;
      let scope = byScope.get(key);
      if (!scope) byScope.set(key, (scope = { scope_type: g.scopeType, scope_id: g.scopeId, permissions: new Set() }));
      scope.permissions.add(g.permission);
    }
    const permissions = [...byScope.values()].map((s) => ({ scope_type: s.scope_type, scope_id: s.scope_id, permissions: [...s.permissions].sort() }));
    if (principal.platformAdmin) permissions.unshift({ scope_type: 'platform', scope_id: 'platform', permissions: ['tenant.manage'] });
    // The principal was resolved from this membership and tenant moments ago.
    const member = required(user, `membership of ${principal.id} in ${principal.tenantId}`);
    return { user: toUserDto(member, member.member_status), tenant: toTenantDto(required(tenant, `tenant ${principal.tenantId}`)), memberships: await this.users.memberships(principal.id), permissions };
  }

  /** A new session in another tenant the user belongs to; other tenants are 404. */
  @Transactional()
  async switchTenant(principal: Principal, tenantId: string): Promise<TokenPairDto> {
    const memberships = await this.users.memberships(principal.id);
    if (!memberships.some((m) => m.tenant_id === tenantId)) throw new TenantNotFoundError(tenantId);
    // A tenant's identity provider vouches for its own tenant only: an SSO session never becomes a session elsewhere,
    // and a password session reaches only tenants that still take passwords from this person.
    const method = principal.sessionId ? await this.sessions.authMethod(principal.sessionId) : undefined;
    if (method === 'oidc') throw new SsoSessionTenantBoundError();
    if (!(await this.passwordLoginAllowed(asTenantId(tenantId), principal.id))) throw new PasswordLoginDisabledError();
    return this.openSession(principal.id, asTenantId(tenantId), 'session.tenant_switched', { from_tenant_id: principal.tenantId });
  }

  /** The session of a person an identity provider vouched for (the caller checked the membership in this transaction). */
  async openOidcSession(userId: string, tenantId: TenantId, providerId: string): Promise<TokenPairDto> {
    return this.openSession(userId, tenantId, 'session.created', { method: 'oidc', provider_id: providerId }, providerId);
  }

  /**
   * A failed accept rolls back (the token stays usable); a wrong password for an existing account is audited like a
   * failed login, so an invitation is no quieter way to guess someone's password.
   */
  @Transactional()
  async acceptInvitation(dto: AcceptInvitationDto): Promise<TokenPairDto> {
    const outcome = await this.users.acceptInvitation(dto.token, dto.password, dto.name);
    if (outcome.kind === 'wrong_password') await this.recordLoginFailure(outcome.user.email, outcome.user.id, 'invitation_wrong_password');
    if (outcome.kind !== 'ok') throw new InvalidCredentialsError('The invitation is invalid, expired or already used, or the password is not the account’s current one.');
    if (!(await this.passwordLoginAllowed(asTenantId(outcome.tenantId), outcome.user.id))) throw new PasswordLoginDisabledError();
    return this.openSession(outcome.user.id, asTenantId(outcome.tenantId), 'invitation.accepted');
  }

  private async openSession(userId: string, tenantId: TenantId, action: AuditAction, payload: Record<string, unknown> = {}, oidcProviderId?: string): Promise<TokenPairDto> {
    const session = await this.sessions.create({
      ...(oidcProviderId ? { auth_method: 'oidc' as const, auth_provider_id: oidcProviderId } : {}),
      id: newId('session'),
      tenant_id: tenantId,
      user_id: userId,
      expires_at: new Date(Date.now() + this.config.jwt.refreshTtlSeconds * 1000),
      ip: this.cls.get('ip'),
      user_agent: this.cls.get('userAgent'),
    });
    // Callers open sessions for members only (login, switch and accept checked the membership in this transaction).
    const member = required(await this.users.findMember(tenantId, userId), `membership of ${userId} in ${tenantId}`);
    const tokens = await this.tokens.issue(session);
    await this.audit.record({ action, resourceType: 'session', resourceId: session.id, tenantId, actor: { type: 'user', id: userId, label: member.email }, payload });
    return { ...tokens, user: toUserDto(member, member.member_status) };
  }
}
