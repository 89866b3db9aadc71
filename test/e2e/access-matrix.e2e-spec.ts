import request, { Response } from 'supertest';
import { RouteAccess, RouteAccessInventory } from '../../src/common/auth/route-access';
import { auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Which tenant-A object an `:id` in the path stands for. */
type Target = 'tenant' | 'user' | 'workspace' | 'environment' | 'role' | 'assignment' | 'apiKey' | 'auditEvent' | 'agent' | 'job' | 'secret' | 'workflow' | 'policy' | 'request' | 'plugin' | 'webhook' | 'group' | 'provider';

interface MatrixEntry {
  /** Required for every route with a path parameter. */
  target?: Target;
  /** A body that passes validation, so a lookup (not a 400) decides the 404. */
  body?: object;
  /** Agent-credential routes: users get 403, and another agent's secret on this agent's path gets 403. */
  agentOnly?: true;
}

/**
 * Every @Authenticated route, keyed `METHOD path` as RouteAccessInventory lists it.
 * A new authenticated route fails the "covers every route" test until it is added here.
 */
const MATRIX: Record<string, MatrixEntry> = {
  'POST /api/v1/auth/logout': {},
  'GET /api/v1/auth/me': {},
  'POST /api/v1/auth/switch-tenant': { body: { tenant_id: 'ten_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'GET /api/v1/permissions': {},

  'POST /api/v1/tenants': { body: { slug: 'matrix-new', display_name: 'Matrix', plan: 'team', admin_email: 'new@matrix.example' } },
  'GET /api/v1/tenants': {},
  'GET /api/v1/tenants/:id': { target: 'tenant' },
  'PATCH /api/v1/tenants/:id': { target: 'tenant', body: { display_name: 'Hijacked', status: 'suspended' } },
  'DELETE /api/v1/tenants/:id': { target: 'tenant' },

  'POST /api/v1/users': { body: { email: 'new@matrix.example', name: 'New', password: 'new password 1234' } },
  'GET /api/v1/users': {},
  'GET /api/v1/users/:id': { target: 'user' },
  'PATCH /api/v1/users/:id': { target: 'user', body: { name: 'Hijacked', status: 'disabled' } },
  'GET /api/v1/users/:id/roles': { target: 'user' },

  'POST /api/v1/workspaces': { body: { slug: 'matrix-ws', display_name: 'Matrix', capabilities: [] } },
  'GET /api/v1/workspaces': {},
  'GET /api/v1/workspaces/:id': { target: 'workspace' },
  'PATCH /api/v1/workspaces/:id': { target: 'workspace', body: { display_name: 'Hijacked' } },
  'DELETE /api/v1/workspaces/:id': { target: 'workspace' },
  'POST /api/v1/workspaces/:id/environments': { target: 'workspace', body: { name: 'hijacked', protected: false } },
  'GET /api/v1/workspaces/:id/environments': { target: 'workspace' },
  'DELETE /api/v1/environments/:id': { target: 'environment' },

  'POST /api/v1/roles': { body: { name: 'matrix-role', description: 'x', permissions: ['workspace.read'] } },
  'GET /api/v1/roles': {},
  'GET /api/v1/roles/:id': { target: 'role' },
  'PUT /api/v1/roles/:id/permissions': { target: 'role', body: { permissions: ['workspace.read', 'role.read'] } },
  'DELETE /api/v1/roles/:id': { target: 'role' },
  'POST /api/v1/user-roles': { body: { user_id: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', role_id: 'rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', scope_type: 'tenant', scope_id: 'ten_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'GET /api/v1/user-roles': {},
  'DELETE /api/v1/user-roles/:id': { target: 'assignment' },

  'POST /api/v1/groups': { body: { name: 'matrix-group' } },
  'POST /api/v1/auth/providers': { body: { issuer: 'https://idp.example.com', client_id: 'c', client_secret: 's', scopes: ['openid', 'email'] } },
  'GET /api/v1/auth/providers': {},
  'GET /api/v1/auth/providers/:id': { target: 'provider' },
  'PATCH /api/v1/auth/providers/:id': { target: 'provider', body: { enabled: false } },
  'DELETE /api/v1/auth/providers/:id': { target: 'provider' },
  'GET /api/v1/groups': {},
  'GET /api/v1/groups/:id': { target: 'group' },
  'PATCH /api/v1/groups/:id': { target: 'group', body: { name: 'Hijacked' } },
  'DELETE /api/v1/groups/:id': { target: 'group' },
  'GET /api/v1/groups/:id/members': { target: 'group' },
  'POST /api/v1/groups/:id/members': { target: 'group', body: { user_id: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'DELETE /api/v1/groups/:id/members/:user_id': { target: 'group' },

  'POST /api/v1/authz/check': { body: { principal: { type: 'user', id: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' }, permission: 'workspace.read', resource: { type: 'tenant', id: 'ten_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } } },
  'POST /api/v1/authz/explain': { body: { principal: { type: 'user', id: 'usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' }, permission: 'workspace.read', resource: { type: 'tenant', id: 'ten_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } } },

  'POST /api/v1/api-keys': { body: { name: 'matrix', permissions: ['workspace.read'] } },
  'GET /api/v1/api-keys': {},
  'GET /api/v1/api-keys/:id': { target: 'apiKey' },
  'POST /api/v1/api-keys/:id/revoke': { target: 'apiKey' },
  'DELETE /api/v1/api-keys/:id': { target: 'apiKey' },

  'GET /api/v1/audit-events': {},
  'GET /api/v1/audit-events/export': {},
  'GET /api/v1/audit-events/verify': {},
  'GET /api/v1/audit-events/checkpoints': {},
  'GET /api/v1/audit-events/:id': { target: 'auditEvent' },

  'POST /api/v1/agents/enrollment-tokens': { body: { workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'POST /api/v1/agents': { body: { name: 'm', workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', cluster_name: 'c', capabilities: ['file'] } },
  'GET /api/v1/agents': {},
  'GET /api/v1/agents/:id': { target: 'agent' },
  'POST /api/v1/agents/:id/revoke': { target: 'agent' },
  'PUT /api/v1/agents/:id/public-key': { agentOnly: true, body: { public_key: Buffer.alloc(32, 9).toString('base64') } },
  'POST /api/v1/agents/:id/heartbeat': { agentOnly: true, body: {} },
  'POST /api/v1/agents/:id/dek': { agentOnly: true },
  'POST /api/v1/agents/:id/jobs/claim': { agentOnly: true, body: { wait_seconds: 0 } },
  'POST /api/v1/agents/:id/jobs/:job_id/complete': { agentOnly: true, body: { lease_token: 'x', status: 'succeeded' } },
  'POST /api/v1/agents/:id/jobs/complete': { agentOnly: true, body: { completions: [{ job_id: 'job_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', lease_token: 'x', status: 'succeeded' }] } },
  'POST /api/v1/agents/:id/secrets/bulk': { agentOnly: true, body: { secrets: [] } },
  'POST /api/v1/jobs': { body: { type: 'discovery.run', capability: 'file', workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'GET /api/v1/jobs': {},
  'GET /api/v1/jobs/:id': { target: 'job' },
  'GET /api/v1/secrets': {},
  'GET /api/v1/secrets/:id': { target: 'secret' },

  'POST /api/v1/workflows': { body: { name: 'matrix', stages: [{ name: 'one', required_approvals: 1, approver_role_ids: ['rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] }] } },
  'GET /api/v1/workflows': {},
  'GET /api/v1/workflows/:id': { target: 'workflow' },
  'PUT /api/v1/workflows/:id': { target: 'workflow', body: { name: 'matrix', stages: [{ name: 'one', required_approvals: 1, approver_role_ids: ['rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] }] } },
  'DELETE /api/v1/workflows/:id': { target: 'workflow' },
  'POST /api/v1/policies': { body: { name: 'matrix', priority: 0, effect: 'deny' } },
  'POST /api/v1/requests': { body: { type: 'secret.read', title: 't', reason: 'r', secret_id: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'POST /api/v1/requests/read': { body: { secret_id: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', reason: 'r' } },
  'GET /api/v1/requests': {},
  'GET /api/v1/requests/:id': { target: 'request' },
  'POST /api/v1/requests/:id/submit': { target: 'request' },
  'POST /api/v1/requests/:id/approve': { target: 'request', body: {} },
  'POST /api/v1/requests/:id/reject': { target: 'request', body: { reason: 'no' } },
  'POST /api/v1/requests/:id/cancel': { target: 'request', body: {} },
  'POST /api/v1/requests/:id/execute': { target: 'request' },
  'POST /api/v1/requests/:id/rollback': { target: 'request', body: { reason: 'undo' } },
  'GET /api/v1/requests/:id/approvers': { target: 'request' },
  'POST /api/v1/requests/:id/break-glass': { target: 'request', body: { reason: 'production is down, paging on-call' } },
  'GET /api/v1/requests/:id/wraps': { target: 'request' },
  'GET /api/v1/requests/:id/wraps/:wrap_id': { target: 'request' },
  'GET /api/v1/approvals': {},
  'POST /api/v1/agents/:id/wraps': { agentOnly: true, body: { job_id: 'job_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', dek_id: 'dek_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', ciphertext: 'AAAA', iv: 'AAAAAAAAAAAAAAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA==' } },
  'GET /api/v1/agents/:id/wraps/:wrap_id': { agentOnly: true },
  'POST /api/v1/policies/evaluate': { body: { type: 'secret.read', workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'GET /api/v1/policies': {},
  'GET /api/v1/policies/:id': { target: 'policy' },
  'PUT /api/v1/policies/:id': { target: 'policy', body: { name: 'matrix', priority: 0, effect: 'deny' } },
  'DELETE /api/v1/policies/:id': { target: 'policy' },
  'GET /api/v1/plugins/catalog': {},
  'POST /api/v1/plugins/validate': { body: { manifest: {} } },
  'POST /api/v1/plugins': { body: { catalog_id: 'argocd' } },
  'GET /api/v1/plugins': {},
  'GET /api/v1/plugins/:id': { target: 'plugin' },
  'PATCH /api/v1/plugins/:id': { target: 'plugin', body: { enabled: false } },
  'DELETE /api/v1/plugins/:id': { target: 'plugin' },
  'POST /api/v1/plugins/:id/test': { target: 'plugin', body: { workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },
  'POST /api/v1/plugins/:id/discover': { target: 'plugin', body: { workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } },

  'POST /api/v1/webhooks': { body: { url: 'https://93.184.216.34/hook', events: ['audit.chain_broken'] } },
  'GET /api/v1/webhooks': {},
  'GET /api/v1/webhooks/:id': { target: 'webhook' },
  'PATCH /api/v1/webhooks/:id': { target: 'webhook', body: { enabled: false } },
  'DELETE /api/v1/webhooks/:id': { target: 'webhook' },
  'POST /api/v1/webhooks/:id/rotate-secret': { target: 'webhook' },
  'GET /api/v1/webhooks/:id/deliveries': { target: 'webhook' },
  'POST /api/v1/webhooks/:id/deliveries/:delivery_id/redeliver': { target: 'webhook' },
  'POST /api/v1/webhooks/:id/test': { target: 'webhook' },
};

const PARAM = /:[A-Za-z_]+/g;
const hasParam = (path: string) => /:[A-Za-z_]+/.test(path);
const keyOf = (r: RouteAccess) => `${r.method} ${r.path}`;
const MATRIX_ROUTES = Object.keys(MATRIX).length;
const MATRIX_ID_ROUTES = Object.values(MATRIX).filter((e) => e.target).length;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

describe('access matrix: 401 / 403 / 404 on every authenticated route (e2e)', () => {
  let t: TestApp;
  let routes: RouteAccess[];
  let ownerA: Session;
  let ownerB: Session;
  let noRoles: Session;
  let ids: Record<Target, string>;
  let agentASecret: string;
  let agentBSecret: string;
  const counts = { unauthenticated: 0, denied: 0, notFound: 0 };

  const created = (res: Response, what: string): string => {
    if (res.status !== 201) throw new Error(`create ${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };

  const call = (route: RouteAccess, path: string, headers: Record<string, string>) => {
    const req = request(t.http)[route.method.toLowerCase() as Method](path).set(headers);
    const body = MATRIX[keyOf(route)]?.body;
    return body === undefined ? req : req.send(body);
  };

  beforeAll(async () => {
    t = await createTestApp();
    routes = t.app.get(RouteAccessInventory).list().filter((r) => r.access === 'authenticated');
    const admin = await setupPlatform(t);
    const a = await createTenant(t, admin, 'tenant-a');
    const b = await createTenant(t, admin, 'tenant-b');
    ownerA = a.owner;
    ownerB = b.owner;
    noRoles = await createMember(t, ownerA, 'noroles@tenant-a.example');

    const as = auth(ownerA.token);
    const workspace = created(await request(t.http).post('/api/v1/workspaces').set(as).send({ slug: 'payments', display_name: 'Payments' }), 'workspace');
    const environment = created(await request(t.http).post(`/api/v1/workspaces/${workspace}/environments`).set(as).send({ name: 'prod', protected: true }), 'environment');
    const role = created(await request(t.http).post('/api/v1/roles').set(as).send({ name: 'payments-reader', permissions: ['workspace.read'] }), 'role');
    const user = created(await request(t.http).post('/api/v1/users').set(as).send({ email: 'member@tenant-a.example', name: 'Member', password: 'member password 123' }), 'user');
    const assignment = created(
      await request(t.http).post('/api/v1/user-roles').set(as).send({ user_id: user, role_id: role, scope_type: 'workspace', scope_id: workspace }),
      'assignment',
    );
    const group = created(await request(t.http).post('/api/v1/groups').set(as).send({ name: 'payments-team' }), 'group');
    if ((await request(t.http).post(`/api/v1/groups/${group}/members`).set(as).send({ user_id: user })).status !== 201) throw new Error('group member');
    const apiKey = created(await request(t.http).post('/api/v1/api-keys').set(as).send({ name: 'ci', permissions: ['workspace.read'] }), 'api key');
    const events = await request(t.http).get('/api/v1/audit-events?limit=1').set(as);
    if (events.status !== 200 || !events.body.data[0]) throw new Error(`audit events: ${events.status} ${JSON.stringify(events.body)}`);
    const minted = await request(t.http).post('/api/v1/agents').set(as).send({ name: 'a1', workspace_id: workspace, cluster_name: 'c1', capabilities: ['file'] });
    if (minted.status !== 201) throw new Error(`mint: ${minted.status} ${JSON.stringify(minted.body)}`);
    const agent = minted.body.agent.id as string;
    agentASecret = minted.body.agent_secret;
    const job = created(await request(t.http).post('/api/v1/jobs').set(as).send({ type: 'discovery.run', agent_id: agent }), 'job');
    const bulk = await request(t.http).post(`/api/v1/agents/${agent}/secrets/bulk`).set('X-Agent-Secret', agentASecret).send({ secrets: [{ cluster_name: 'c1', provider: 'file', ref: 'db/password' }] });
    if (bulk.status !== 200) throw new Error(`bulk: ${bulk.status} ${JSON.stringify(bulk.body)}`);
    const secret = (await request(t.http).get('/api/v1/secrets').set(as)).body.data[0].id as string;
    const approverRole = (await request(t.http).get('/api/v1/roles?limit=200').set(as)).body.data.find((r: { name: string }) => r.name === 'approver').id as string;
    const workflow = created(
      await request(t.http).post('/api/v1/workflows').set(as).send({ name: 'two-step', stages: [{ name: 'lead', required_approvals: 1, approver_role_ids: [approverRole] }] }),
      'workflow',
    );
    const policy = created(await request(t.http).post('/api/v1/policies').set(as).send({ name: 'prod', priority: 10, effect: 'require_approval', workflow_id: workflow }), 'policy');
    const wsB = created(await request(t.http).post('/api/v1/workspaces').set(auth(ownerB.token)).send({ slug: 'b-ws', display_name: 'B' }), 'workspace B');
    agentBSecret = (await request(t.http).post('/api/v1/agents').set(auth(ownerB.token)).send({ name: 'b1', workspace_id: wsB, cluster_name: 'cb', capabilities: ['file'] })).body.agent_secret as string;
    const req = await request(t.http).post('/api/v1/requests/read').set(as).send({ secret_id: secret, reason: 'matrix' });
    if (req.status !== 201) throw new Error(`request: ${req.status} ${JSON.stringify(req.body)}`);
    const plugin = created(await request(t.http).post('/api/v1/plugins').set(as).send({ catalog_id: 'aws-iam', settings: { region: 'eu-west-1' } }), 'plugin');
    // A literal public address (no DNS in the test) and an event never emitted here: nothing is ever sent.
    const webhook = created(await request(t.http).post('/api/v1/webhooks').set(as).send({ url: 'https://93.184.216.34/hook', events: ['audit.chain_broken'] }), 'webhook');
    // A provider row of tenant A written directly: registering one through the API discovers its issuer, and no identity
    // provider runs in this test (oidc.e2e-spec.ts registers real ones). Only its id is used here.
    const provider = 'idp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B';
    const c = await t.db.client();
    try {
      await c.query(`INSERT INTO auth_providers (id, tenant_id, name, issuer, client_id, client_secret, scopes) VALUES ($1, $2, 'matrix', 'https://idp.example.com', 'c', '{}'::jsonb, '{openid}')`, [provider, a.tenantId]);
    } finally {
      await c.end();
    }
    ids = { provider, group, webhook, plugin, request: req.body.id, tenant: a.tenantId, user, workspace, environment, role, assignment, apiKey, auditEvent: events.body.data[0].id, agent, job, secret, workflow, policy };
  });
  afterAll(() => t.close());

  /** The route's path with its parameters replaced by the tenant-A object it targets (or any id when it has none). */
  const pathOf = (route: RouteAccess) => {
    const entry = MATRIX[keyOf(route)];
    const target = entry?.agentOnly ? 'agent' : entry?.target;
    const fixed: Record<string, string> = { ':job_id': ids.job, ':wrap_id': 'wrp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', ':user_id': ids.user };
    return route.path.replace(PARAM, (param) => fixed[param] ?? (target ? ids[target] : 'x'));
  };

  it('covers every authenticated route, and every route with a path parameter names its target', () => {
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.map(keyOf).sort()).toEqual(Object.keys(MATRIX).sort());
    expect(routes.filter((r) => hasParam(r.path) !== Boolean(MATRIX[keyOf(r)].target || MATRIX[keyOf(r)].agentOnly)).map(keyOf)).toEqual([]);
    expect(routes.filter((r) => Boolean(MATRIX[keyOf(r)].agentOnly) !== (r.principals?.join() === 'agent')).map(keyOf)).toEqual([]);
  });

  it(`401 AUTHENTICATION_REQUIRED without credentials (${MATRIX_ROUTES} routes), with the request id in the body`, async () => {
    const expected: object[] = [];
    const observed: object[] = [];
    for (const route of routes) {
      const res = await call(route, pathOf(route), {});
      counts.unauthenticated++;
      expected.push({ route: keyOf(route), status: 401, code: 'AUTHENTICATION_REQUIRED', request_id: expect.stringMatching(/.{8,}/), same_id: true });
      observed.push({
        route: keyOf(route),
        status: res.status,
        code: res.body?.error?.code,
        request_id: res.body?.error?.request_id,
        same_id: res.body?.error?.request_id === res.headers['x-request-id'],
      });
    }
    expect(observed).toEqual(expected);
  });

  it('403 PERMISSION_DENIED naming the declared permission, for a tenant member with no roles', async () => {
    const expected: object[] = [];
    const observed: object[] = [];
    for (const route of routes.filter((r) => r.permission)) {
      const res = await call(route, pathOf(route), auth(noRoles.token));
      counts.denied++;
      expected.push({ route: keyOf(route), status: 403, code: 'PERMISSION_DENIED', permission: route.permission });
      observed.push({ route: keyOf(route), status: res.status, code: res.body?.error?.code, permission: res.body?.error?.details?.[0]?.permission });
    }
    expect(observed).toEqual(expected);
  });

  it(`404 NOT_FOUND when tenant B's owner targets tenant A's objects (${MATRIX_ID_ROUTES} routes with an :id)`, async () => {
    const expected: object[] = [];
    const observed: object[] = [];
    for (const route of routes.filter((r) => MATRIX[keyOf(r)].target)) {
      const res = await call(route, pathOf(route), auth(ownerB.token));
      counts.notFound++;
      expected.push({ route: keyOf(route), status: 404, code: 'NOT_FOUND' });
      observed.push({ route: keyOf(route), status: res.status, code: res.body?.error?.code });
    }
    expect(observed).toEqual(expected);
  });

  it('agent routes: 403 for user credentials, and 403 for another agent’s secret (another tenant’s included)', async () => {
    const agentRoutes = routes.filter((r) => MATRIX[keyOf(r)].agentOnly);
    expect(agentRoutes.length).toBeGreaterThan(0);
    const observed: object[] = [];
    const expected: object[] = [];
    for (const route of agentRoutes) {
      for (const [who, headers] of [
        ['owner A (user)', auth(ownerA.token)],
        ['agent of tenant B', { 'X-Agent-Secret': agentBSecret }],
      ] as const) {
        const res = await call(route, pathOf(route), headers);
        expected.push({ route: keyOf(route), who, status: 403, code: 'PERMISSION_DENIED' });
        observed.push({ route: keyOf(route), who, status: res.status, code: res.body?.error?.code });
      }
    }
    expect(observed).toEqual(expected);
    // Agent credentials reach nothing but agent routes.
    const userRoute = await request(t.http).get('/api/v1/workspaces').set('X-Agent-Secret', agentASecret);
    expect(userRoute.status).toBe(403);
  });

  it("leaves tenant A's objects untouched after tenant B's attempts", async () => {
    const as = auth(ownerA.token);
    const get = (path: string) => request(t.http).get(path).set(as);
    expect((await get(`/api/v1/tenants/${ids.tenant}`)).body).toMatchObject({ status: 'active', display_name: 'TENANT-A' });
    expect((await get(`/api/v1/users/${ids.user}`)).body).toMatchObject({ name: 'Member', status: 'active' });
    expect((await get(`/api/v1/users/${ids.user}/roles`)).body.data).toContainEqual(expect.objectContaining({ id: ids.assignment }));
    expect((await get(`/api/v1/workspaces/${ids.workspace}`)).body).toMatchObject({ status: 'active', display_name: 'Payments' });
    const envs = (await get(`/api/v1/workspaces/${ids.workspace}/environments`)).body.data as { id: string; name: string }[];
    expect(envs.map((e) => e.name)).toEqual(['prod']);
    expect(envs[0].id).toBe(ids.environment);
    expect((await get(`/api/v1/roles/${ids.role}`)).body).toMatchObject({ permissions: ['workspace.read'] });
    expect((await get(`/api/v1/groups/${ids.group}`)).body).toMatchObject({ name: 'payments-team', member_count: 1 });
    expect((await get(`/api/v1/groups/${ids.group}/members`)).body.data.map((m: { user_id: string }) => m.user_id)).toEqual([ids.user]);
    expect((await get(`/api/v1/api-keys/${ids.apiKey}`)).body).toMatchObject({ revoked_at: null });
    expect((await get(`/api/v1/workflows/${ids.workflow}`)).body).toMatchObject({ name: 'two-step', version: 1 });
    expect((await get(`/api/v1/policies/${ids.policy}`)).body).toMatchObject({ name: 'prod', effect: 'require_approval', workflow_id: ids.workflow });
    expect((await get(`/api/v1/plugins/${ids.plugin}`)).body).toMatchObject({ manifest_id: 'aws-iam', enabled: true, settings: { region: 'eu-west-1' } });
  });

  it('ran a 401, 403 and 404 case for every route that calls for one', () => {
    expect(counts.unauthenticated).toBeGreaterThan(0);
    expect(counts.denied).toBeGreaterThan(0);
    expect(counts.notFound).toBeGreaterThan(0);
    expect(counts.unauthenticated).toBe(MATRIX_ROUTES);
    expect(counts.denied).toBe(routes.filter((r) => r.permission).length);
    expect(counts.notFound).toBe(MATRIX_ID_ROUTES);
  });
});
