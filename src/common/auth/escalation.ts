import { holdsKey, holdsKeyTenantWide, Principal, ScopeType } from './principal';

export interface TargetScope {
  type: ScopeType;
  workspaceId?: string | null;
  environmentId?: string | null;
}

/**
 * The permissions of `wanted` the principal does not hold at the target scope (anti-escalation). `wanted` comes from
 * a request body (a role's or an API key's permissions, plugin keys included), already checked against the catalog.
 */
export function notHeldAt(principal: Principal, wanted: readonly string[], scope: TargetScope): string[] {
  return wanted.filter((permission) =>
    scope.type === 'tenant'
      ? !holdsKeyTenantWide(principal, permission)
      : !holdsKey(principal, permission, { workspaceId: scope.workspaceId, environmentId: scope.environmentId }),
  );
}
