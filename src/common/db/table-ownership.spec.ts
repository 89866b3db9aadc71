import * as fs from 'node:fs';
import * as path from 'node:path';
import { TABLE_NAMES, TableName } from './schema.generated';

/**
 * Each table belongs to one module; another module asks that module's service (the eslint layer rule keeps its
 * repository out of reach, this test keeps its table out of reach of SQL strings).
 */
const OWNER: Record<TableName, string> = {
  tenants: 'tenants',
  users: 'users',
  tenant_members: 'users',
  invitations: 'users',
  sessions: 'users',
  refresh_tokens: 'users',
  roles: 'roles',
  user_roles: 'roles',
  api_keys: 'api-keys',
  agents: 'agents',
  agent_enrollment_tokens: 'agents',
  deks: 'agents',
  jobs: 'jobs',
  workspaces: 'workspaces',
  environments: 'workspaces',
  groups: 'groups',
  group_members: 'groups',
  secrets: 'secrets',
  requests: 'requests',
  wraps: 'requests',
  approvals: 'approvals',
  workflows: 'workflows',
  policies: 'policies',
  plugins: 'plugins',
  auth_providers: 'auth',
  oidc_logins: 'auth',
  oidc_identities: 'auth',
  webhooks: 'webhooks',
  webhook_deliveries: 'webhooks',
  audit_events: 'audit',
  audit_seals: 'audit',
  audit_checkpoints: 'audit',
  idempotency_keys: 'common/db',
};

/**
 * The reads of another module's table that stay, each for a reason; anything else fails. An entry is
 * `repository file → tables`; the list only shrinks.
 */
const ALLOWED: Record<string, { tables: TableName[]; why: string }> = {
  'agents/agents.repository.ts': {
    tables: ['tenants', 'workspaces'],
    why: 'credential path: enrolment and agent authentication check the tenant and workspace status in the one statement that consumes the token / finds the agent',
  },
  'api-keys/api-keys.repository.ts': {
    tables: ['tenants', 'users', 'tenant_members'],
    why: "credential path: one index lookup resolves a key with its tenant's and creator's status on every request",
  },
  'users/users.repository.ts': {
    tables: ['tenants', 'user_roles', 'roles'],
    why: "session context (credential path) and memberships read the tenant's status; the owner guard reads who holds the built-in owner role under the tenant row lock",
  },
  'roles/roles.repository.ts': {
    tables: ['tenant_members', 'users', 'groups', 'group_members'],
    why: "approver candidates: active members with their assignments in one statement; a user's grants are their own and their groups' assignments, read in one statement on every principal cache miss (credential path), with the group's name for explanations",
  },
  'groups/groups.repository.ts': {
    tables: ['users'],
    why: "a page of members carries each member's email and name in one statement",
  },
  'secrets/secrets.repository.ts': {
    tables: ['agents'],
    why: "inventory upsert: a revoked agent's secrets may be re-homed, decided inside the ON CONFLICT of one statement",
  },
  'requests/requests.repository.ts': {
    tables: ['approvals'],
    why: "the inbox leaves out requests the caller already decided at their current stage (NOT EXISTS keeps the keyset page exact)",
  },
};

const MODULES = path.join(__dirname, '../../modules');

/** Tables named after FROM, JOIN, INTO, UPDATE (and DELETE FROM) in the file's SQL. */
export function tablesTouched(source: string): Set<string> {
  const found = new Set<string>();
  for (const m of source.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_][a-z0-9_]*)\b/g)) found.add(m[1]);
  return found;
}

function repositories(): { file: string; module: string; source: string }[] {
  const out: { file: string; module: string; source: string }[] = [];
  for (const module of fs.readdirSync(MODULES)) {
    const dir = path.join(MODULES, module);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir)) {
      if (name.endsWith('.repository.ts')) out.push({ file: `${module}/${name}`, module, source: fs.readFileSync(path.join(dir, name), 'utf8') });
    }
  }
  return out;
}

describe('table ownership', () => {
  it('names an owner for every table of the schema', () => {
    expect([...TABLE_NAMES].sort()).toEqual(Object.keys(OWNER).sort());
  });

  it('finds the tables of FROM / JOIN / INTO / UPDATE / DELETE FROM (and not CTE names or SQL words as tables)', () => {
    const touched = tablesTouched("`WITH next AS (SELECT id FROM jobs) UPDATE jobs j SET x = 1 FROM next JOIN agents a ON a.id = j.agent_id; DELETE FROM wraps; INSERT INTO deks (id)`");
    expect([...touched].sort()).toEqual(['agents', 'deks', 'jobs', 'next', 'wraps']);
  });

  it("no repository queries another module's table beyond the reasoned exceptions", () => {
    const violations: string[] = [];
    const seen = new Set<string>();
    for (const repo of repositories()) {
      const allowed = ALLOWED[repo.file]?.tables ?? [];
      for (const table of tablesTouched(repo.source)) {
        const owner = OWNER[table as TableName];
        if (owner === undefined || owner === repo.module) continue; // a CTE, an alias, a function: not a table
        if (allowed.includes(table as TableName)) seen.add(`${repo.file}:${table}`);
        else violations.push(`${repo.file} queries ${table} (owned by ${owner}): ask the ${owner} module's service, or let it own the query`);
      }
    }
    expect(violations).toEqual([]);
    // An exception that is no longer needed is removed from the list.
    const stale = Object.entries(ALLOWED).flatMap(([file, { tables }]) => tables.filter((t) => !seen.has(`${file}:${t}`)).map((t) => `${file}:${t}`));
    expect(stale).toEqual([]);
  });

  it('workspaces.repository reads only the workspaces module tables (deletion checks ask the owning modules)', () => {
    const source = fs.readFileSync(path.join(MODULES, 'workspaces/workspaces.repository.ts'), 'utf8');
    expect([...tablesTouched(source)].filter((t) => t in OWNER).sort()).toEqual(['environments', 'workspaces']);
  });
});
