/**
 * The core permission catalog (SPEC §2), key → description. `CorePermission` is derived from it, so a misspelt key in
 * `@Authenticated({ permission })` or `requirePermission(...)` fails `tsc`. Plugins add their own keys per tenant
 * (`source: "plugin:<id>"`): those stay strings, checked against the tenant's registry at run time.
 */
export const CORE_PERMISSIONS = {
  'tenant.manage': 'Create, change and delete tenants (platform scope; in a tenant role: that tenant only).',
  'tenant.read': 'Read the tenant.',
  'user.manage': 'Invite, create and disable users.',
  'user.read': 'Read users and their role assignments.',
  'workspace.manage': 'Create, change and delete workspaces and environments.',
  'workspace.read': 'Read workspaces and environments.',
  'role.edit': 'Create, change and delete roles.',
  'role.read': 'Read roles and assignments.',
  'user_role.edit': 'Assign and remove roles.',
  'apikey.manage': 'Create, read, revoke and delete API keys.',
  'agent.mint': 'Create enrollment tokens and agents.',
  'agent.revoke': 'Revoke agents.',
  'agent.read': 'Read agents.',
  'secret.read_metadata': 'Read the discovered secret inventory (never values).',
  'request.create': 'Create requests.',
  'request.read_all': 'Read every request of the tenant.',
  'request.approve': 'Approve or reject requests one is eligible for.',
  'request.execute': 'Execute, cancel and roll back requests.',
  'workflow.edit': 'Create, change and delete workflows.',
  'workflow.read': 'Read workflows.',
  'policy.edit': 'Create, change and delete policies.',
  'policy.read': 'Read and dry-run policies.',
  'job.create': 'Enqueue jobs.',
  'job.read': 'Read jobs.',
  'plugin.manage': 'Install, configure and remove plugins.',
  'plugin.read': 'Read plugins and the catalog.',
  'audit.read': 'Read, export and verify audit events.',
  'authz.check': 'Ask and explain authorization decisions.',
  'metrics.read': 'Read Prometheus metrics.',
  'request.break_glass': 'Approve a request at once, bypassing its workflow (audited).',
  'webhook.manage': 'Manage webhooks.',
} as const satisfies Readonly<Record<string, string>>;

/** A permission of the core catalog. */
export type CorePermission = keyof typeof CORE_PERMISSIONS;

/** Whether `key` (read from a request body, a role or a manifest) is a core permission (own keys only, not `toString`). */
export function isCorePermission(key: string): key is CorePermission {
  return Object.hasOwn(CORE_PERMISSIONS, key);
}

export const ALL_CORE_PERMISSIONS: readonly CorePermission[] = Object.keys(CORE_PERMISSIONS).filter(isCorePermission);
const reads = ALL_CORE_PERMISSIONS.filter((p) => p.endsWith('.read') || p === 'secret.read_metadata');

/** Built-in roles every tenant gets; they cannot be changed or deleted (copies can). */
export const BUILT_IN_ROLES: ReadonlyArray<{ name: string; description: string; permissions: CorePermission[] }> = [
  { name: 'owner', description: 'Everything in the tenant.', permissions: [...ALL_CORE_PERMISSIONS] },
  { name: 'admin', description: 'Everything but tenant.manage.', permissions: ALL_CORE_PERMISSIONS.filter((p) => p !== 'tenant.manage') },
  { name: 'approver', description: 'Approves requests; reads.', permissions: ['request.approve', ...reads] },
  { name: 'requester', description: 'Creates requests and reads their own.', permissions: ['request.create', 'workspace.read', 'secret.read_metadata'] },
  { name: 'auditor', description: 'Reads everything, audit included.', permissions: ['audit.read', ...reads] },
  {
    name: 'agent-operator',
    description: 'Runs agents and jobs.',
    permissions: ['agent.mint', 'agent.revoke', 'agent.read', 'job.create', 'job.read', 'workspace.read'],
  },
];
