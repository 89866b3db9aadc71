/** The core permission catalog (SPEC §2). Plugins add their own later, with `source: "plugin:<id>"`. */
export const CORE_PERMISSIONS: Readonly<Record<string, string>> = {
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
};

export const ALL_CORE_PERMISSIONS = Object.keys(CORE_PERMISSIONS);
const reads = ALL_CORE_PERMISSIONS.filter((p) => p.endsWith('.read') || p === 'secret.read_metadata');

/** Built-in roles every tenant gets; they cannot be changed or deleted (copies can). */
export const BUILT_IN_ROLES: ReadonlyArray<{ name: string; description: string; permissions: string[] }> = [
  { name: 'owner', description: 'Everything in the tenant.', permissions: ALL_CORE_PERMISSIONS },
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
