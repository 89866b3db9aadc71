import fc from 'fast-check';
import request, { Response } from 'supertest';
import { ID_PREFIXES, IdKind } from '../../src/common/crypto/ids';
import { WEBHOOK_EVENTS } from '../../src/modules/webhooks/webhook-events';
import { auth, createTenant, login, Session, setupPlatform } from './identity';
import { TestApp } from './test-app';

export interface AgentCredential {
  id: string;
  secret: string;
}

/**
 * Two tenants with one or more real objects of every kind a mutation route names, and the principals to call them.
 * Path parameters target `targets` (tenant A's objects the fuzzer may damage: never the session, agent or workspace
 * the other routes depend on) or `foreign` (tenant B's); bodies name `refs` (all of tenant A's, core ones included).
 */
export interface FuzzWorld {
  admin: Session;
  ownerA: Session;
  ownerB: Session;
  ownerAEmail: string;
  agentA: AgentCredential;
  agentB: AgentCredential;
  targets: Partial<Record<IdKind, string[]>>;
  foreign: Partial<Record<IdKind, string[]>>;
  refs: Partial<Record<IdKind, string[]>>;
  permissions: string[];
  catalog: string[];
  emails: string[];
  enrollmentTokens: string[];
  invitationTokens: string[];
  refreshTokens: string[];
  /** A new session of tenant A's owner (for routes that end or replace the session they are called with). */
  freshOwnerSession(): Promise<Session>;
}

export const OWNER_PASSWORD = 'owner password 123';
const MEMBER_PASSWORD = 'member password 123';

function created(res: Response, what: string): Record<string, unknown> {
  if (res.status < 200 || res.status > 299) throw new Error(`fuzz world: ${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Record<string, unknown>;
}

/** Builds the world through the public API only (as the access-matrix test does). */
export async function buildFuzzWorld(t: TestApp): Promise<FuzzWorld> {
  const post = async (token: string | null, path: string, body: object, what = path, headers: Record<string, string> = {}) =>
    created(await request(t.http).post(path).set(token ? auth(token) : {}).set(headers).send(body), what);
  const id = (body: Record<string, unknown>) => body.id as string;

  const admin = await setupPlatform(t);
  const a = await createTenant(t, admin, 'fuzz-a');
  const b = await createTenant(t, admin, 'fuzz-b');
  const tenantC = id(await post(admin.token, '/api/v1/tenants', { slug: 'fuzz-c', display_name: 'C', plan: 'team', admin_email: 'owner@fuzz-c.example' }));
  const tenantD = id(await post(admin.token, '/api/v1/tenants', { slug: 'fuzz-d', display_name: 'D', plan: 'team', admin_email: 'owner@fuzz-d.example' }));

  const objects = async (owner: Session, tag: string) => {
    const tok = owner.token;
    const workspaces = [];
    for (const n of [1, 2, 3]) workspaces.push(id(await post(tok, '/api/v1/workspaces', { slug: `${tag}-ws-${n}`, display_name: `WS ${n}`, capabilities: ['file'] })));
    const environments = [];
    for (const [w, n] of [[0, 'prod'], [1, 'dev'], [1, 'stage']] as const) {
      environments.push(id(await post(tok, `/api/v1/workspaces/${workspaces[w]}/environments`, { name: n, protected: n === 'prod' })));
    }
    const roles = [];
    for (const n of [1, 2]) roles.push(id(await post(tok, '/api/v1/roles', { name: `${tag}-role-${n}`, permissions: ['workspace.read'] })));
    const users = [];
    for (const n of [1, 2]) users.push(id(await post(tok, '/api/v1/users', { email: `m${n}@${tag}.example`, name: `Member ${n}`, password: MEMBER_PASSWORD })));
    const invited = await post(tok, '/api/v1/users', { email: `invited@${tag}.example`, name: 'Invited' });
    users.push(id(invited));
    const userRoles = [
      id(await post(tok, '/api/v1/user-roles', { user_id: users[0], role_id: roles[0], scope_type: 'workspace', scope_id: workspaces[0] })),
      id(await post(tok, '/api/v1/user-roles', { user_id: users[1], role_id: roles[1], scope_type: 'tenant', scope_id: owner.tenantId })),
    ];
    const groups = [];
    for (const n of [1, 2]) {
      groups.push(id(await post(tok, '/api/v1/groups', { name: `${tag} group ${n}` })));
      await post(tok, `/api/v1/groups/${groups[n - 1]}/members`, { user_id: users[n - 1] });
    }
    const apiKeys = [];
    for (const n of [1, 2]) apiKeys.push(id(await post(tok, '/api/v1/api-keys', { name: `${tag}-key-${n}`, permissions: ['workspace.read'] })));
    const mint = async (n: string, w: string) => {
      const body = await post(tok, '/api/v1/agents', { name: n, workspace_id: w, cluster_name: 'c1', capabilities: ['file'] });
      return { id: (body.agent as { id: string }).id, secret: body.agent_secret as string };
    };
    const core = await mint(`${tag}-core`, workspaces[0]);
    const spare = [await mint(`${tag}-spare-1`, workspaces[1]), await mint(`${tag}-spare-2`, workspaces[1])];
    const enrollment = await post(tok, '/api/v1/agents/enrollment-tokens', { workspace_id: workspaces[1], max_uses: 1000 });
    await post(null, `/api/v1/agents/${core.id}/secrets/bulk`, { secrets: ['db/password', 'api/token', 'tls/key'].map((ref) => ({ cluster_name: 'c1', provider: 'file', ref })) }, 'bulk', {
      'X-Agent-Secret': core.secret,
    });
    const secrets = ((await request(t.http).get('/api/v1/secrets?limit=50').set(auth(tok))).body.data as { id: string }[]).map((s) => s.id);
    const jobs = [id(await post(tok, '/api/v1/jobs', { type: 'discovery.run', agent_id: core.id })), id(await post(tok, '/api/v1/jobs', { type: 'discovery.run', agent_id: core.id }))];
    const dek = (await post(null, `/api/v1/agents/${core.id}/dek`, {}, 'dek', { 'X-Agent-Secret': core.secret })).dek_id as string;
    const approver = ((await request(t.http).get('/api/v1/roles?limit=200').set(auth(tok))).body.data as { id: string; name: string }[]).find((r) => r.name === 'approver')!.id;
    const workflows = [];
    for (const n of [1, 2]) workflows.push(id(await post(tok, '/api/v1/workflows', { name: `${tag}-wf-${n}`, stages: [{ name: 'lead', required_approvals: 1, approver_role_ids: [approver] }] })));
    const policies = [];
    for (const n of [1, 2]) policies.push(id(await post(tok, '/api/v1/policies', { name: `${tag}-pol-${n}`, priority: n, effect: 'require_approval', workflow_id: workflows[0] })));
    const requests = [];
    for (let n = 0; n < 4; n++) requests.push(id(await post(tok, '/api/v1/requests/read', { secret_id: secrets[n % secrets.length], reason: `fuzz ${n}` })));
    const plugins = [id(await post(tok, '/api/v1/plugins', { catalog_id: 'aws-iam', settings: { region: 'eu-west-1' } }))];
    const webhooks = [];
    for (const n of [1, 2]) webhooks.push(id(await post(tok, '/api/v1/webhooks', { url: `https://93.184.216.34/hook-${n}`, events: ['audit.chain_broken'] })));
    const deliveries = [(await post(tok, `/api/v1/webhooks/${webhooks[0]}/test`, {})).delivery_id as string];
    const ids: Partial<Record<IdKind, string[]>> = {
      workspace: workspaces,
      environment: environments,
      role: [...roles, approver],
      user: users,
      userRole: userRoles,
      group: groups,
      apiKey: apiKeys,
      agent: [core.id, ...spare.map((s) => s.id)],
      secret: secrets,
      job: jobs,
      dek: [dek],
      workflow: workflows,
      policy: policies,
      request: requests,
      plugin: plugins,
      webhook: webhooks,
      delivery: deliveries,
      tenant: [owner.tenantId],
    };
    return { ids, core, coreWorkspace: workspaces[0], enrollment: enrollment.token as string, invitation: invited.invitation_token as string };
  };

  const worldA = await objects(a.owner, 'fuzz-a');
  const worldB = await objects(b.owner, 'fuzz-b');
  const refreshTokens: string[] = [];
  for (let n = 0; n < 3; n++) refreshTokens.push((await login(t, a.ownerEmail, OWNER_PASSWORD)).refresh);
  const permissions = ((await request(t.http).get('/api/v1/permissions').set(auth(a.owner.token))).body as { key: string }[]).map((p) => p.key);
  const catalog = ((await request(t.http).get('/api/v1/plugins/catalog').set(auth(a.owner.token))).body as { id: string }[]).map((p) => p.id);
  if (!permissions.length || !catalog.length) throw new Error('fuzz world: no permissions or plugin catalog');

  // Targets leave out what the run depends on: tenant A itself, its core workspace and the agent that authenticates.
  const targets: Partial<Record<IdKind, string[]>> = { ...worldA.ids, tenant: [tenantC, tenantD] };
  targets.workspace = worldA.ids.workspace!.filter((w) => w !== worldA.coreWorkspace);
  targets.agent = worldA.ids.agent!.filter((g) => g !== worldA.core.id);
  targets.role = worldA.ids.role!.slice(0, 2);
  return {
    admin,
    ownerA: a.owner,
    ownerB: b.owner,
    ownerAEmail: a.ownerEmail,
    agentA: worldA.core,
    agentB: worldB.core,
    targets,
    foreign: { ...worldB.ids, tenant: [] },
    refs: { ...worldA.ids, tenant: [a.tenantId, b.tenantId, tenantC] },
    permissions,
    catalog,
    emails: [a.ownerEmail, b.ownerEmail, 'm1@fuzz-a.example', 'invited@fuzz-a.example', 'admin@example.com'],
    enrollmentTokens: [worldA.enrollment, worldB.enrollment],
    invitationTokens: [worldA.invitation, worldB.invitation],
    refreshTokens,
    freshOwnerSession: () => login(t, a.ownerEmail, OWNER_PASSWORD),
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.split('');
const ulidLike = fc.string({ unit: fc.constantFrom(...CROCKFORD), minLength: 26, maxLength: 26 });
const KINDS = Object.keys(ID_PREFIXES) as IdKind[];

/** A well-formed id of `kind` that names nothing, or one with another kind's prefix. */
export const shapedId = (kind: IdKind): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: ulidLike.map((u) => `${ID_PREFIXES[kind]}_${u}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...KINDS), ulidLike).map(([k, u]) => `${ID_PREFIXES[k]}_${u}`) },
  );

/** Real ids of `kind`: tenant A's mostly, tenant B's sometimes, and well-formed ids of nothing. */
export function idOf(world: FuzzWorld, kinds: IdKind[], pool: 'refs' | 'targets' = 'refs'): fc.Arbitrary<string> {
  const own = kinds.flatMap((k) => world[pool][k] ?? []);
  const foreign = kinds.flatMap((k) => world.foreign[k] ?? []);
  return fc.oneof(
    ...(own.length ? [{ weight: 6, arbitrary: fc.constantFrom(...own) }] : []),
    ...(foreign.length ? [{ weight: 2, arbitrary: fc.constantFrom(...foreign) }] : []),
    { weight: 2, arbitrary: fc.constantFrom(...kinds).chain(shapedId) },
  );
}

/** Body property name → the kinds of id it holds. Array items use the singular (`approver_role_ids` → `approver_role_id`). */
const ID_FIELDS: Record<string, IdKind[]> = {
  workspace_id: ['workspace'],
  environment_id: ['environment'],
  user_id: ['user'],
  approver_id: ['user'],
  approver_user_id: ['user'],
  role_id: ['role'],
  approver_role_id: ['role'],
  approver_group_id: ['group'],
  group_id: ['group'],
  agent_id: ['agent'],
  secret_id: ['secret'],
  job_id: ['job'],
  dek_id: ['dek'],
  workflow_id: ['workflow'],
  tenant_id: ['tenant'],
  scope_id: ['tenant', 'workspace', 'environment'],
  id: ['user', 'apiKey', 'tenant', 'workspace', 'environment'],
};

const CEL = ['true', 'false', 'request.type == "secret.read"', 'request.environment_protected && now > timestamp("2020-01-01T00:00:00Z")', 'size(target) > 3', '1 +', 'request.', '"a" * 3', '[1,2,3].all(x, x > 0)'];
const b64 = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));

/** Realistic values for the body properties that need them to get past look-ups and format checks. */
export function worldHints(world: FuzzWorld): (name: string) => fc.Arbitrary<unknown> | undefined {
  return (name) => {
    if (ID_FIELDS[name]) return idOf(world, ID_FIELDS[name]);
    switch (name) {
      case 'permission':
        return fc.oneof(fc.constantFrom(...world.permissions), fc.constantFrom('plugin:aws-iam.read', '*', 'tenant.manage'));
      case 'event':
        return fc.constantFrom(...WEBHOOK_EVENTS, 'request.*', 'agent.*', 'ping');
      case 'capability':
        return fc.constantFrom('file', 'k8s', 'vault');
      case 'type':
      case 'request_type':
        return fc.constantFrom('secret.read', 'secret.patch', 'secret.rotate', 'discovery.run', 'aws-iam.rotate');
      case 'catalog_id':
        return fc.constantFrom(...world.catalog);
      case 'email':
      case 'admin_email':
        return fc.oneof(fc.constantFrom(...world.emails), fc.nat().map((n) => `new${n}@fuzz.example`));
      case 'password':
        return fc.constantFrom(OWNER_PASSWORD, MEMBER_PASSWORD, 'correct horse battery', 'wrong password 1');
      case 'token':
        return fc.constantFrom(...world.invitationTokens);
      case 'refresh_token':
        return fc.constantFrom(...world.refreshTokens);
      case 'public_key':
        return b64(32, 32);
      case 'iv':
        return b64(12, 12);
      case 'tag':
        return b64(16, 16);
      case 'ciphertext':
        return b64(1, 64);
      case 'condition':
        return fc.constantFrom(...CEL);
      default:
        return undefined;
    }
  };
}
