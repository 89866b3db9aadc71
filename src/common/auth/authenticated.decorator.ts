import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiParam, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorEnvelope } from '../errors/error-envelope.dto';
import { CorePermission } from './permission-catalog';
import { Principal, PrincipalType } from './principal';

export const AUTHENTICATED = 'countersign:authenticated';

export interface AuthenticatedOptions {
  /** Checked by the guard: the principal must hold it at some scope (object scope is checked by the service). */
  permission?: CorePermission;
  /**
   * `'tenant'`: the permission must be held at tenant scope (tenant-level resources, SPEC §2: a workspace or
   * environment grant never reaches them). Services check it again (`requireTenantPermission`).
   */
  scope?: 'tenant';
  /** Who may call; default users and API keys. Agent routes say `['agent']`. */
  principals?: PrincipalType[];
}

export interface AuthenticatedMetadata {
  permission?: CorePermission;
  scope?: 'tenant';
  principals: PrincipalType[];
}

/** The route needs credentials (and optionally a permission). Documents the security schemes and 401/403. */
export function Authenticated(options: AuthenticatedOptions = {}) {
  const metadata: AuthenticatedMetadata = {
    permission: options.permission,
    ...(options.scope ? { scope: options.scope } : {}),
    principals: options.principals ?? ['user', 'api_key'],
  };
  const decorators = [
    SetMetadata(AUTHENTICATED, metadata),
    ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'Missing, invalid, expired or revoked credentials.' }),
  ];
  if (metadata.principals.includes('user') || metadata.principals.includes('api_key')) decorators.push(ApiBearerAuth('bearer'), ApiSecurity('api_key'));
  if (metadata.principals.includes('agent')) {
    // Agent routes live under /api/v1/agents/:id/…; the handler reads the agent from the principal, the path names it.
    decorators.push(ApiSecurity('agent_secret'), ApiParam({ name: 'id', description: 'The agent the X-Agent-Secret belongs to (else 403).', example: 'agt_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' }));
  }
  // 403 PERMISSION_DENIED: a missing permission, a credential type the route does not take, or another agent's secret.
  const forbidden: string[] = [];
  if (metadata.permission) forbidden.push(`Needs \`${metadata.permission}\`${metadata.scope ? ` at ${metadata.scope} scope` : ''}`);
  if (!metadata.principals.includes('user') || !metadata.principals.includes('api_key')) forbidden.push(`only ${metadata.principals.join(' or ').replace(/_/g, ' ')} credentials are accepted`);
  if (metadata.principals.includes('agent')) forbidden.push('the X-Agent-Secret must belong to the agent in the path');
  // Any route can be sent an X-Agent-Secret: where agents are not accepted, that is a 403 too.
  if (!forbidden.length) forbidden.push('agent credentials are not accepted');
  if (forbidden.length) decorators.push(ApiForbiddenResponse({ type: ErrorEnvelope, description: `${forbidden.join('; ')} (PERMISSION_DENIED).` }));
  return applyDecorators(...decorators);
}

/** The authenticated caller, as resolved by the guard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
