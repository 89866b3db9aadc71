import { TenantId } from '../../common/db/tenant-id';

/** A workspace or an environment about to be deleted. */
export interface DeletedScope {
  type: 'workspace' | 'environment';
  id: string;
}

/**
 * What another module keeps under a workspace or environment, asked by the module that owns those rows (its own
 * query, its own status rules). Modules that depend on workspaces register one at construction, so the workspaces
 * module never reads their tables nor imports them (which would be a cycle).
 */
export interface ScopeDependents {
  /** How the dependents are named in the 409 IN_USE answer (`used_by`). */
  what: string;
  /** True while rows of this module prevent deleting the scope. */
  blocksDeletion(tenantId: TenantId, scope: DeletedScope): Promise<boolean>;
}
