import { TenantId } from '../db/tenant-id';
import { CorePermission } from './permission-catalog';
import { PermissionDeniedError } from './auth.errors';

export type ScopeType = 'tenant' | 'workspace' | 'environment';
export type PrincipalType = 'user' | 'api_key' | 'agent';

/** One permission held at one scope. */
export interface Grant {
  permission: string;
  scopeType: ScopeType;
  scopeId: string;
}

/** Where an object lives: checks pass when a grant covers the tenant, its workspace or its environment. */
export interface ResourceScope {
  workspaceId?: string | null;
  environmentId?: string | null;
}

/** Who is calling, resolved fresh on every request (no permission cache: revocations apply on the next call). */
export interface Principal {
  type: PrincipalType;
  /** User id, API key id or agent id. */
  id: string;
  /** Set by the principal resolver only: the tenant every repository call of this request is scoped to. */
  tenantId: TenantId;
  /** Human label for logs and audit: email, key name, agent name. */
  label: string;
  /** The user behind the principal (the user, or an API key's creator). */
  userId?: string;
  sessionId?: string;
  platformAdmin: boolean;
  grants: Grant[];
  /** For agents: the workspace (and environment) they are bound to. */
  workspaceId?: string;
  environmentId?: string | null;
  /** For agents: what they can run (resolved with the secret on every call). */
  agent?: { capabilities: string[]; hasPublicKey: boolean; publicKey: string | null; clusterName: string };
}

/**
 * True when a grant covers `key` at the scope (anywhere when no scope is given). Takes any key: for keys read from data
 * (role definitions, API key permissions, plugin manifests). Code that names a core permission uses `holds`.
 */
export function holdsKey(principal: Principal, key: string, scope?: ResourceScope): boolean {
  if (key === 'tenant.manage' && principal.platformAdmin) return true;
  return principal.grants.some((g) => {
    if (g.permission !== key) return false;
    if (!scope || g.scopeType === 'tenant') return true;
    if (g.scopeType === 'workspace') return g.scopeId === scope.workspaceId;
    return g.scopeId === scope.environmentId;
  });
}

/** True when a grant covers `key` for the whole tenant (any key; see `holdsKey`). */
export function holdsKeyTenantWide(principal: Principal, key: string): boolean {
  if (key === 'tenant.manage' && principal.platformAdmin) return true;
  return principal.grants.some((g) => g.permission === key && g.scopeType === 'tenant');
}

/** True when the principal holds the core `permission` at the given scope, or anywhere when no scope is given. */
export function holds(principal: Principal, permission: CorePermission, scope?: ResourceScope): boolean {
  return holdsKey(principal, permission, scope);
}

/** True when the principal holds the core `permission` for the whole tenant. */
export function holdsTenantWide(principal: Principal, permission: CorePermission): boolean {
  return holdsKeyTenantWide(principal, permission);
}

/** Workspaces where the principal holds `permission`; `'all'` when it holds it tenant-wide. */
export function workspacesWith(principal: Principal, permission: CorePermission): 'all' | string[] {
  if (holdsTenantWide(principal, permission)) return 'all';
  return principal.grants.filter((g) => g.permission === permission && g.scopeType === 'workspace').map((g) => g.scopeId);
}

/** Expands role assignments into grants. */
export function toGrants(rows: { permissions: string[]; scopeType: ScopeType; scopeId: string }[]): Grant[] {
  return rows.flatMap((r) => r.permissions.map((permission) => ({ permission, scopeType: r.scopeType, scopeId: r.scopeId })));
}

/** Throws 403 PERMISSION_DENIED (naming the permission) unless the principal holds it at the scope. */
export function requirePermission(principal: Principal, permission: CorePermission, scope?: ResourceScope): void {
  if (!holds(principal, permission, scope)) {
    throw new PermissionDeniedError(permission);
  }
}

/**
 * Throws 403 PERMISSION_DENIED (naming the permission, `scope: "tenant"`) unless the principal holds it at tenant scope.
 * Tenant-level resources (audit log, roles, users and invitations, tenant-scope assignments, other users' API keys,
 * workflows, policies) need this: a grant at workspace or environment scope never reaches them (SPEC §2).
 */
export function requireTenantPermission(principal: Principal, permission: CorePermission): void {
  if (!holdsTenantWide(principal, permission)) throw new PermissionDeniedError(permission, undefined, 'tenant');
}

/**
 * Throws 403 PERMISSION_DENIED unless the principal holds `key` at the scope, where `key` comes from data rather than
 * code: a request type's `required_permission` (a plugin's own key, or a core one the manifest names). Kept apart from
 * `requirePermission` so that a plugin key is never passed where the compiler checks a core one. The registry check
 * happens at run time twice: the manifest is refused at install unless the key is the plugin's or core
 * (plugin-schemas), and a principal's grants only keep keys that are core or belong to an enabled plugin of the
 * tenant (PermissionCatalogService.effective), so a key no longer in the registry is never held.
 */
export function requireDeclaredPermission(principal: Principal, key: string, scope?: ResourceScope): void {
  if (!holdsKey(principal, key, scope)) throw new PermissionDeniedError(key);
}
