import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ClsService } from 'nestjs-cls';
import passport from 'passport';
import { AuthenticationRequiredError, InvalidCredentialsError, PermissionDeniedError, PrincipalTypeNotAllowedError, TokenExpiredError, UndeclaredRouteError } from './auth.errors';
import { AUTHENTICATED, AuthenticatedMetadata } from './authenticated.decorator';
import { holds, Principal, requireTenantPermission } from './principal';
import { PRINCIPAL_RESOLVER, PrincipalResolver } from './principal-resolver';
import { JwtStrategy } from './jwt.strategy';
import { IS_PUBLIC } from './public.decorator';

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  principal?: Principal;
}

const API_KEY_PREFIX = 'csk_';

/**
 * The one global guard. A route is reachable only with `@Public()` or `@Authenticated(...)`; anything else is refused.
 * Credentials are chosen by header: `X-Agent-Secret` → agent; `X-API-Key` or `Bearer csk_…` → API key; other `Bearer`
 * → JWT (passport-jwt).
 * The principal is resolved on every request (through the principal cache, which forgets a tenant's principals when a
 * write that can revoke touches it), so revocations apply on the very next call.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly cls: ClsService,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
    private readonly jwtStrategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const access = this.reflector.getAllAndOverride<AuthenticatedMetadata>(AUTHENTICATED, targets);
    if (!access) throw new UndeclaredRouteError();

    const req = context.switchToHttp().getRequest<GuardedRequest>();
    const principal = await this.authenticate(req, context, access);
    if (!access.principals.includes(principal.type)) {
      throw new PrincipalTypeNotAllowedError(principal.type, access.principals);
    }
    req.principal = principal;
    this.cls.set('principal', principal);
    if (access.permission && access.scope === 'tenant') requireTenantPermission(principal, access.permission);
    else if (access.permission && !holds(principal, access.permission)) throw new PermissionDeniedError(access.permission);
    return true;
  }

  private async authenticate(req: GuardedRequest, context: ExecutionContext, access: AuthenticatedMetadata): Promise<Principal> {
    const agentSecret = req.headers['x-agent-secret'];
    if (typeof agentSecret === 'string' && agentSecret) {
      // Only agent routes take an agent secret (and name its agent in `:id`); elsewhere the credential type decides.
      if (!access.principals.includes('agent')) throw new PrincipalTypeNotAllowedError('agent', access.principals);
      return this.resolver.fromAgentSecret(req.params?.id, agentSecret);
    }
    const apiKeyHeader = req.headers['x-api-key'];
    const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
    const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (typeof apiKeyHeader === 'string' && apiKeyHeader) return this.resolver.fromApiKey(apiKeyHeader);
    if (bearer?.startsWith(API_KEY_PREFIX)) return this.resolver.fromApiKey(bearer);
    if (bearer) return this.jwt(req, context);
    if (authorization) throw new InvalidCredentialsError('The Authorization header must be "Bearer <token>".');
    throw new AuthenticationRequiredError();
  }

  private jwt(req: GuardedRequest, context: ExecutionContext): Promise<Principal> {
    const res = context.switchToHttp().getResponse();
    // This app's strategy, not the one registered under 'jwt' in passport's process-wide registry (the last app built in
    // the process wins there). A fresh object per request, as passport makes for a name: it binds the request's
    // success/fail callbacks onto it.
    const strategy = Object.create(this.jwtStrategy) as passport.Strategy;
    return new Promise((resolve, reject) => {
      passport.authenticate(strategy, { session: false }, (err: unknown, principal: Principal | false, info?: { name?: string }) => {
        if (err) return reject(err);
        if (principal) return resolve(principal);
        if (info?.name === 'TokenExpiredError') return reject(new TokenExpiredError());
        reject(new InvalidCredentialsError('The access token is invalid.'));
      })(req, res, (err: unknown) => reject(err ?? new AuthenticationRequiredError()));
    });
  }
}
