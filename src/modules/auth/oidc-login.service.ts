import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { newId } from '../../common/crypto/ids';
import { sha256Hex } from '../../common/crypto/tokens';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { GroupsService } from '../groups/groups.service';
import { TenantsService } from '../tenants/tenants.service';
import { UserRow } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthProviderRow } from './auth-provider.entity';
import { AuthProvidersRepository } from './auth-providers.repository';
import { AuthProvidersService } from './auth-providers.service';
import { AuthService } from './auth.service';
import { OidcCallbackQueryDto } from './dto/auth-provider.dto';
import { TokenPairDto } from './dto/auth.dto';
import { AuthProviderNotFoundError, OidcAccountRefusedError, OidcFailureReason, OidcLoginFailedError, OidcProviderUnavailableError } from './oidc.errors';
import { emailDomain } from './oidc/issuer-url';
import { OidcConfigurations } from './oidc/oidc-configurations';
import * as oidc from 'openid-client';

/** How long a started sign-in may take at the provider. */
const LOGIN_TTL_MS = 10 * 60 * 1000;

/** What the ID token says about the person (validated by openid-client before it is read). */
interface VerifiedClaims {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  groups: string[];
}

/**
 * OpenID Connect sign-in (authorization code flow with PKCE S256, `state` and `nonce`). `start` stores the state's hash
 * with the nonce and code verifier and sends the browser to the provider; `callback` consumes the state once, has
 * openid-client exchange the code and validate the ID token (issuer, audience, signature against the provider's JWKS,
 * nonce, expiry), then admits the person in the provider's tenant and opens a session like a password sign-in.
 *
 * Who is admitted: the subject the provider signed in before; otherwise the account with the same email, which the
 * provider must assert as verified (`email_verified: true`), never taken over without it. A person who is not a member
 * yet joins only when their verified email's domain is one of the provider's `allowed_email_domains` (just in time).
 * Platform admins are never admitted through a tenant's provider. Group memberships follow the `groups_claim` through
 * the provider's mappings at every sign-in.
 */
@Injectable()
export class OidcLoginService {
  constructor(
    private readonly providers: AuthProvidersService,
    private readonly repo: AuthProvidersRepository,
    private readonly configurations: OidcConfigurations,
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly groups: GroupsService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {}

  /** The provider's authorization URL for a new sign-in. */
  async start(providerId: string): Promise<string> {
    const provider = await this.providers.forSignIn(providerId);
    const tenantId = asTenantId(provider.tenant_id);
    if ((await this.tenants.findById(tenantId))?.status !== 'active') throw new AuthProviderNotFoundError(providerId);
    const redirectUri = this.redirectUri();
    const configuration = await this.configurations.get(provider, await this.providers.clientSecret(provider));
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await this.repo.purgeLogins(tenantId);
    await this.repo.insertLogin(tenantId, {
      id: newId('oidcLogin'),
      provider_id: provider.id,
      state_hash: sha256Hex(state),
      nonce,
      code_verifier: codeVerifier,
      expires_at: new Date(Date.now() + LOGIN_TTL_MS),
    });
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: provider.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return url.href;
  }

  /** The provider's redirect: a token pair, or 401/403 in the error envelope (each refusal audited, detached). */
  async callback(query: OidcCallbackQueryDto): Promise<TokenPairDto> {
    const redirectUri = this.redirectUri();
    // One-time: the state is consumed (committed) before anything else, whatever happens next.
    const login = await this.repo.consumeLogin(sha256Hex(query.state));
    const provider = login ? await this.repo.find(asTenantId(login.tenant_id), login.provider_id) : undefined;
    if (!login || !provider?.enabled) {
      await this.recordFailure(login ? asTenantId(login.tenant_id) : null, login?.provider_id ?? null, 'invalid_state', null);
      throw new OidcLoginFailedError('invalid_state', 'The sign-in is unknown, expired or already completed; start it again.');
    }
    const tenantId = asTenantId(login.tenant_id);
    if (query.error || !query.code) {
      await this.recordFailure(tenantId, provider.id, 'provider_error', null, { provider_error: query.error ?? 'no code' });
      throw new OidcLoginFailedError('provider_error', `The identity provider did not sign the person in (${(query.error ?? 'no authorization code').slice(0, 100)}).`);
    }
    const claims = await this.exchange(provider, login, query, redirectUri);
    try {
      return await this.admit(provider, claims);
    } catch (error) {
      if (error instanceof OidcAccountRefusedError) await this.recordFailure(tenantId, provider.id, error.reason, claims.email ?? claims.subject);
      throw error;
    }
  }

  private async exchange(provider: AuthProviderRow, login: { nonce: string; code_verifier: string }, query: OidcCallbackQueryDto, redirectUri: string): Promise<VerifiedClaims> {
    const tenantId = asTenantId(provider.tenant_id);
    const configuration = await this.configurations.get(provider, await this.providers.clientSecret(provider));
    const currentUrl = new URL(redirectUri);
    for (const [key, value] of Object.entries(query)) if (typeof value === 'string') currentUrl.searchParams.set(key, value);
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: login.code_verifier,
        expectedState: query.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims() as Record<string, unknown> | undefined;
    } catch (error) {
      // openid-client's errors may come from another realm (Jest): read their fields, not their class.
      const e = (error ?? {}) as { code?: unknown; message?: unknown; error?: unknown };
      const fromTokenEndpoint = e.code === 'OAUTH_RESPONSE_BODY_ERROR' || typeof e.error === 'string';
      const reason: OidcFailureReason = fromTokenEndpoint ? 'token_exchange_failed' : 'id_token_invalid';
      const detail = `${typeof e.code === 'string' ? `${e.code}: ` : ''}${typeof e.message === 'string' ? e.message : 'unknown error'}`.slice(0, 300);
      await this.recordFailure(tenantId, provider.id, reason, null, { detail });
      throw new OidcLoginFailedError(reason, reason === 'id_token_invalid' ? `The identity provider's ID token was refused (${detail}).` : `The authorization code was refused by the identity provider (${detail}).`);
    }
    if (!claims || typeof claims.sub !== 'string') {
      await this.recordFailure(tenantId, provider.id, 'id_token_invalid', null, { detail: 'no ID token' });
      throw new OidcLoginFailedError('id_token_invalid', 'The identity provider returned no ID token.');
    }
    const raw = provider.groups_claim ? claims[provider.groups_claim] : undefined;
    const groups = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
    return {
      subject: claims.sub,
      email: typeof claims.email === 'string' ? claims.email : null,
      emailVerified: claims.email_verified === true,
      name: typeof claims.name === 'string' ? claims.name : null,
      groups,
    };
  }

  /** One transaction: find or link or create the account, join the tenant, sync groups, open the session. */
  @Transactional()
  private async admit(provider: AuthProviderRow, claims: VerifiedClaims): Promise<TokenPairDto> {
    const tenantId = asTenantId(provider.tenant_id);
    const identity = await this.repo.findIdentity(tenantId, provider.id, claims.subject);
    let user: UserRow | undefined = identity ? await this.users.findById(identity.user_id) : undefined;
    if (!user) {
      if (!claims.email) throw new OidcAccountRefusedError('email_missing', 'The identity provider sent no email address for this person.');
      if (!claims.emailVerified) throw new OidcAccountRefusedError('email_not_verified', 'The identity provider does not assert that this email address is verified (email_verified).');
      user = await this.users.findByEmail(claims.email);
    }
    if (user && (user.is_platform_admin || user.status !== 'active')) {
      throw new OidcAccountRefusedError('account_not_eligible', 'This account cannot sign in through an identity provider; use its password.');
    }
    const member = user ? await this.users.findMember(tenantId, user.id) : undefined;
    if (member && member.member_status !== 'active') throw new OidcAccountRefusedError('membership_disabled', 'This account’s membership of the tenant is disabled.');
    let joined = false;
    if (!member) {
      const domain = claims.email && claims.emailVerified ? emailDomain(claims.email) : null;
      if (!domain || !provider.allowed_email_domains.includes(domain)) {
        throw new OidcAccountRefusedError('domain_not_allowed', 'This person is not a member of the tenant, and their verified email domain is not one the provider admits.');
      }
      const email = claims.email as string; // a domain was read from it
      user ??= (await this.users.createWithoutPassword(email, claims.name ?? email.split('@')[0])) ?? (await this.users.findByEmail(email));
      if (!user) throw new OidcAccountRefusedError('account_not_eligible', 'The account could not be created.');
      await this.users.addToTenantById(tenantId, user.id);
      joined = true;
    }
    if (!user) throw new OidcAccountRefusedError('account_not_eligible', 'No account for this person.'); // a member always has one
    await this.repo.upsertIdentity(tenantId, { provider_id: provider.id, subject: claims.subject, user_id: user.id, email: claims.email });
    if (provider.groups_claim) {
      const mapped = [...new Set(claims.groups.map((g) => provider.group_mappings[g]).filter((id): id is string => typeof id === 'string'))];
      await this.groups.syncProviderMemberships(tenantId, user.id, provider.id, mapped, { type: 'user', id: user.id, label: user.email });
    }
    if (joined) {
      await this.audit.record({ action: 'user.added', resourceType: 'user', resourceId: user.id, tenantId, actor: { type: 'user', id: user.id, label: user.email }, payload: { email: user.email, via: 'oidc', provider_id: provider.id } });
    }
    return this.auth.openOidcSession(user.id, tenantId, provider.id);
  }

  private redirectUri(): string {
    const uri = this.config.oidc.redirectUri;
    if (!uri) throw new OidcProviderUnavailableError('Single sign-on is not configured on this server (set PUBLIC_URL or OIDC_REDIRECT_URI).');
    return uri;
  }

  /** `session.login_failed` with `method: "oidc"`, committed on its own (it survives the refusal). */
  private async recordFailure(tenantId: TenantId | null, providerId: string | null, reason: OidcFailureReason, label: string | null, extra: Record<string, unknown> = {}): Promise<void> {
    await this.audit.recordDetached({
      action: 'session.login_failed',
      resourceType: 'session',
      outcome: 'failure',
      tenantId,
      actor: { type: 'anonymous', id: null, label },
      payload: { method: 'oidc', provider_id: providerId, reason, ...extra },
    });
  }
}
