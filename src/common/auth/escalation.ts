import { holds, holdsTenantWide, Principal, ScopeType } from './principal';

export interface TargetScope {
  type: ScopeType;
  workspaceId?: string | null;
  environmentId?: string | null;
}

/** The permissions of `wanted` the principal does not hold at the target scope (anti-escalation). */
export function notHeldAt(principal: Principal, wanted: string[], scope: TargetScope): string[] {
  return wanted.filter((permission) =>
    scope.type === 'tenant'
      ? !holdsTenantWide(principal, permission)
      : !holds(principal, permission, { workspaceId: scope.workspaceId, environmentId: scope.environmentId }),
  );
}
