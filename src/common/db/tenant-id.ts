/**
 * A tenant id that came from a trusted place: the principal resolver (the caller's tenant), or `asTenantId` where a
 * tenant id legitimately comes from elsewhere. Tenant-scoped repository methods take it first, so passing any other
 * string (a workspace id, an unchecked path parameter) fails `tsc`.
 */
export type TenantId = string & { readonly __brand: 'TenantId' };

/**
 * Marks `id` as a tenant id. For the few places that hold one without a principal: platform tenant routes after
 * their access check, system tasks (sweepers, dispatchers, the sealer) reading rows, and a session's own tenant.
 */
export function asTenantId(id: string): TenantId {
  return id as TenantId;
}
