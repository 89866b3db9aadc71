import request, { Response } from 'supertest';
import { RouteAccess, RouteAccessInventory } from '../../src/common/auth/route-access';
import { assign, auth, createMember, createTenant, roleId, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * SPEC §2: tenant-level resources need the permission at tenant scope (a workspace or environment grant never reaches
 * them); only an owner can demote or disable an owner; the last active owner can never be removed or disabled.
 */
describe('tenant-level resources and owners (e2e)', () => {
  let t: TestApp;
  let tenantId: string;
  let owner: Session;
  let wsAdmin: Session;
  let tenantAdmin: Session;
  let ws: string;
  let ownerKey: { id: string; key: string };

  /** The routes of tenant-level resources: the guard must demand their permission at tenant scope. */
  const TENANT_LEVEL = [
    'GET /api/v1/audit-events',
    'GET /api/v1/audit-events/:id',
    'GET /api/v1/audit-events/checkpoints',
    'GET /api/v1/audit-events/export',
    'GET /api/v1/audit-events/verify',
    'POST /api/v1/roles',
    'GET /api/v1/roles',
    'GET /api/v1/roles/:id',
    'PUT /api/v1/roles/:id/permissions',
    'DELETE /api/v1/roles/:id',
    'GET /api/v1/user-roles',
    'POST /api/v1/users',
    'GET /api/v1/users',
    'GET /api/v1/users/:id',
    'PATCH /api/v1/users/:id',
    'GET /api/v1/users/:id/roles',
    'POST /api/v1/workflows',
    'GET /api/v1/workflows',
    'GET /api/v1/workflows/:id',
    'PUT /api/v1/workflows/:id',
    'DELETE /api/v1/workflows/:id',
    'POST /api/v1/policies',
    'POST /api/v1/policies/evaluate',
    'GET /api/v1/policies',
    'GET /api/v1/policies/:id',
    'PUT /api/v1/policies/:id',
    'DELETE /api/v1/policies/:id',
    'GET /api/v1/plugins/catalog',
    'POST /api/v1/plugins/validate',
    'POST /api/v1/plugins',
    'GET /api/v1/plugins',
    'GET /api/v1/plugins/:id',
    'PATCH /api/v1/plugins/:id',
    'DELETE /api/v1/plugins/:id',
    'POST /api/v1/plugins/:id/test',
    'POST /api/v1/plugins/:id/discover',
    'POST /api/v1/webhooks',
    'GET /api/v1/webhooks',
    'GET /api/v1/webhooks/:id',
    'PATCH /api/v1/webhooks/:id',
    'DELETE /api/v1/webhooks/:id',
    'POST /api/v1/webhooks/:id/rotate-secret',
    'GET /api/v1/webhooks/:id/deliveries',
    'POST /api/v1/webhooks/:id/deliveries/:delivery_id/redeliver',
    'POST /api/v1/webhooks/:id/test',
    'POST /api/v1/auth/providers',
    'GET /api/v1/auth/providers',
    'GET /api/v1/auth/providers/:id',
    'PATCH /api/v1/auth/providers/:id',
    'DELETE /api/v1/auth/providers/:id',
    'POST /api/v1/groups',
    'GET /api/v1/groups',
    'GET /api/v1/groups/:id',
    'PATCH /api/v1/groups/:id',
    'DELETE /api/v1/groups/:id',
    'GET /api/v1/groups/:id/members',
    'POST /api/v1/groups/:id/members',
    'DELETE /api/v1/groups/:id/members/:user_id',
  ].sort();

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> => {
    const c = await t.db.client();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };
  const denied = (res: Response, permission: string) => {
    expect({ status: res.status, code: res.body?.error?.code, details: res.body?.error?.details }).toEqual({
      status: 403,
      code: 'PERMISSION_DENIED',
      details: [expect.objectContaining({ permission })],
    });
  };
  const ownerAssignment = async (userId: string): Promise<string> => {
    const res = await request(t.http).get(`/api/v1/users/${userId}/roles`).set(auth(owner.token));
    const found = (res.body.data as { id: string; role_name: string; scope_type: string }[]).find((a) => a.role_name === 'owner' && a.scope_type === 'tenant');
    if (!found) throw new Error(`no owner assignment for ${userId}: ${JSON.stringify(res.body)}`);
    return found.id;
  };
  const activeOwners = async () =>
    (
      await sql<{ user_id: string }>(
        `SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id AND r.built_in AND r.name = 'owner'
           JOIN users u ON u.id = ur.user_id AND u.status = 'active'
           JOIN tenant_members m ON m.tenant_id = ur.tenant_id AND m.user_id = ur.user_id AND m.status = 'active'
          WHERE ur.tenant_id = $1 AND ur.scope_type = 'tenant' ORDER BY ur.user_id`,
        [tenantId],
      )
    ).map((r) => r.user_id);

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000' } });
    const admin = await setupPlatform(t);
    ({ tenantId, owner } = await createTenant(t, admin, 'scoped'));
    ws = (await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'payments', display_name: 'Payments' })).body.id;
    wsAdmin = await createMember(t, owner, 'wsadmin@scoped.example');
    await assign(t, owner, wsAdmin.userId, 'admin', 'workspace', ws);
    tenantAdmin = await createMember(t, owner, 'tadmin@scoped.example');
    await assign(t, owner, tenantAdmin.userId, 'admin', 'tenant', tenantId);
    const key = await request(t.http).post('/api/v1/api-keys').set(auth(owner.token)).send({ name: 'owner-ci', permissions: ['workspace.read'] });
    ownerKey = { id: key.body.id, key: key.body.key };
  });
  afterAll(() => t.close());

  it('declares every tenant-level route tenant-scoped (route table)', () => {
    const routes = t.app.get(RouteAccessInventory).list();
    const key = (r: RouteAccess) => `${r.method} ${r.path}`;
    expect(routes.filter((r) => r.scope === 'tenant').map(key).sort()).toEqual(TENANT_LEVEL);
  });

  it('a workspace-scope admin gets 403 PERMISSION_DENIED (naming the permission) on every tenant-level route', async () => {
    const routes = t.app.get(RouteAccessInventory).list();
    const observed: object[] = [];
    const expected: object[] = [];
    for (const route of TENANT_LEVEL) {
      const [method, path] = route.split(' ');
      const declared = routes.find((r) => r.method === method && r.path === path);
      const permission = declared?.permission ?? '(undeclared)';
      const call = request(t.http)[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](path.replace(/:id/g, 'x_01JD3Z6Q8Y4K2M9V7T5R3P1N0B')).set(auth(wsAdmin.token));
      const res = method === 'GET' || method === 'DELETE' ? await call : await call.send({});
      expected.push({ route, status: 403, code: 'PERMISSION_DENIED', permission });
      observed.push({ route, status: res.status, code: res.body?.error?.code, permission: res.body?.error?.details?.[0]?.permission });
    }
    expect(observed).toEqual(expected);
  });

  it('the workspace admin reads no audit event, role, user or workflow, and changes none of them', async () => {
    const as = auth(wsAdmin.token);
    denied(await request(t.http).get('/api/v1/audit-events').set(as), 'audit.read');
    denied(await request(t.http).get('/api/v1/audit-events/verify').set(as), 'audit.read');
    denied(await request(t.http).get('/api/v1/audit-events/export').set(as), 'audit.read');
    const custom = (await request(t.http).post('/api/v1/roles').set(auth(owner.token)).send({ name: 'custom', permissions: ['workspace.read'] })).body.id as string;
    denied(await request(t.http).get('/api/v1/roles').set(as), 'role.read');
    denied(await request(t.http).post('/api/v1/roles').set(as).send({ name: 'mine', permissions: ['workspace.read'] }), 'role.edit');
    denied(await request(t.http).put(`/api/v1/roles/${custom}/permissions`).set(as).send({ permissions: ['workspace.read', 'secret.read_metadata'] }), 'role.edit');
    denied(await request(t.http).delete(`/api/v1/roles/${custom}`).set(as), 'role.edit');
    expect((await request(t.http).get(`/api/v1/roles/${custom}`).set(auth(owner.token))).body.permissions).toEqual(['workspace.read']);
    denied(await request(t.http).get('/api/v1/users').set(as), 'user.read');
    denied(await request(t.http).post('/api/v1/users').set(as).send({ email: 'x@scoped.example', name: 'X', password: 'x password 12345' }), 'user.manage');
    denied(await request(t.http).patch(`/api/v1/users/${owner.userId}`).set(as).send({ status: 'disabled' }), 'user.manage');
    expect((await request(t.http).get('/api/v1/auth/me').set(auth(owner.token))).status).toBe(200);
    const approver = await roleId(t, owner, 'approver');
    const stage = { name: 'one', required_approvals: 1, approver_role_ids: [approver] };
    const wf = (await request(t.http).post('/api/v1/workflows').set(auth(owner.token)).send({ name: 'wf', stages: [stage] })).body.id as string;
    denied(await request(t.http).post('/api/v1/workflows').set(as).send({ name: 'wf2', stages: [stage] }), 'workflow.edit');
    denied(await request(t.http).put(`/api/v1/workflows/${wf}`).set(as).send({ name: 'wf', stages: [stage, stage] }), 'workflow.edit');
    denied(await request(t.http).delete(`/api/v1/workflows/${wf}`).set(as), 'workflow.edit');
    const pol = (await request(t.http).post('/api/v1/policies').set(auth(owner.token)).send({ name: 'p', priority: 1, effect: 'deny' })).body.id as string;
    denied(await request(t.http).post('/api/v1/policies').set(as).send({ name: 'p2', priority: 1, effect: 'auto_approve' }), 'policy.edit');
    denied(await request(t.http).put(`/api/v1/policies/${pol}`).set(as).send({ name: 'p', priority: 1, effect: 'auto_approve' }), 'policy.edit');
    denied(await request(t.http).delete(`/api/v1/policies/${pol}`).set(as), 'policy.edit');
    expect((await request(t.http).get(`/api/v1/workflows/${wf}`).set(auth(owner.token))).body.version).toBe(1);
    expect((await request(t.http).get(`/api/v1/policies/${pol}`).set(auth(owner.token))).body.effect).toBe('deny');
    // Workspace-level things keep working at workspace scope.
    expect((await request(t.http).get(`/api/v1/workspaces/${ws}`).set(as)).status).toBe(200);
    expect((await request(t.http).post(`/api/v1/workspaces/${ws}/environments`).set(as).send({ name: 'dev' })).status).toBe(201);
  });

  it("API keys: a workspace-scope apikey.manage manages its own keys; other users' keys are 404 and untouched", async () => {
    const as = auth(wsAdmin.token);
    const mine = await request(t.http).post('/api/v1/api-keys').set(as).send({ name: 'mine', permissions: [] });
    expect(mine.status).toBe(201);
    const listed = await request(t.http).get('/api/v1/api-keys').set(as);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([mine.body.id]);
    expect((await request(t.http).get(`/api/v1/api-keys/${mine.body.id}`).set(as)).status).toBe(200);
    for (const res of [
      await request(t.http).get(`/api/v1/api-keys/${ownerKey.id}`).set(as),
      await request(t.http).post(`/api/v1/api-keys/${ownerKey.id}/revoke`).set(as),
      await request(t.http).delete(`/api/v1/api-keys/${ownerKey.id}`).set(as),
    ]) {
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    }
    expect((await request(t.http).get('/api/v1/workspaces').set('X-API-Key', ownerKey.key)).status).toBe(200);
    expect((await request(t.http).post(`/api/v1/api-keys/${mine.body.id}/revoke`).set(as)).body.revoked_at).not.toBeNull();
    // apikey.manage at tenant scope sees and manages every key of the tenant.
    const all = await request(t.http).get('/api/v1/api-keys?limit=200').set(auth(tenantAdmin.token));
    expect(all.body.data.map((k: { id: string }) => k.id)).toEqual(expect.arrayContaining([ownerKey.id, mine.body.id]));
    expect((await request(t.http).get(`/api/v1/api-keys/${ownerKey.id}`).set(auth(tenantAdmin.token))).status).toBe(200);
  });

  it('assignments: a workspace-scope user_role.edit assigns in its workspace, never at tenant scope, and cannot remove the owner', async () => {
    const as = auth(wsAdmin.token);
    const member = await createMember(t, owner, 'member@scoped.example');
    const approver = await roleId(t, owner, 'approver');
    denied(await request(t.http).post('/api/v1/user-roles').set(as).send({ user_id: member.userId, role_id: approver, scope_type: 'tenant', scope_id: tenantId }), 'user_role.edit');
    const inWs = await request(t.http).post('/api/v1/user-roles').set(as).send({ user_id: member.userId, role_id: approver, scope_type: 'workspace', scope_id: ws });
    expect(inWs.status).toBe(201);
    expect((await request(t.http).delete(`/api/v1/user-roles/${inWs.body.id}`).set(as)).status).toBe(204);
    const ownersAssignment = await ownerAssignment(owner.userId);
    denied(await request(t.http).delete(`/api/v1/user-roles/${ownersAssignment}`).set(as), 'user_role.edit');
    expect(await activeOwners()).toEqual([owner.userId]);
  });

  it('only an owner can demote or disable an owner: a tenant-scope admin gets 403, the owner stays', async () => {
    const as = auth(tenantAdmin.token);
    const res = await request(t.http).patch(`/api/v1/users/${owner.userId}`).set(as).send({ status: 'disabled' });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'PERMISSION_DENIED' });
    const demote = await request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(owner.userId)}`).set(as);
    expect({ status: demote.status, code: demote.body.error?.code }).toEqual({ status: 403, code: 'PERMISSION_DENIED' });
    expect(await activeOwners()).toEqual([owner.userId]);
    expect((await request(t.http).get('/api/v1/auth/me').set(auth(owner.token))).status).toBe(200);
    // The same admin still manages ordinary members.
    const member = await createMember(t, owner, 'ordinary@scoped.example');
    expect((await request(t.http).patch(`/api/v1/users/${member.userId}`).set(as).send({ status: 'disabled' })).body.status).toBe('disabled');
  });

  it('the last active owner cannot be demoted or disabled: 409 LAST_OWNER in the error envelope', async () => {
    const demote = await request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(owner.userId)}`).set(auth(owner.token));
    expect(demote.status).toBe(409);
    expect(demote.body).toEqual({ error: { code: 'LAST_OWNER', message: expect.any(String), details: null, request_id: demote.headers['x-request-id'] } });
    const disable = await request(t.http).patch(`/api/v1/users/${owner.userId}`).set(auth(owner.token)).send({ status: 'disabled' });
    expect({ status: disable.status, code: disable.body.error?.code }).toEqual({ status: 409, code: 'LAST_OWNER' });
    expect(await activeOwners()).toEqual([owner.userId]);
    expect((await request(t.http).get('/api/v1/auth/me').set(auth(owner.token))).status).toBe(200);
  });

  it('an owner can demote and disable another owner', async () => {
    const second = await createMember(t, owner, 'second-owner@scoped.example');
    await assign(t, owner, second.userId, 'owner', 'tenant', tenantId);
    expect((await request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(second.userId)}`).set(auth(owner.token))).status).toBe(204);
    await assign(t, owner, second.userId, 'owner', 'tenant', tenantId);
    expect((await request(t.http).patch(`/api/v1/users/${second.userId}`).set(auth(owner.token)).send({ status: 'disabled' })).body.status).toBe('disabled');
    expect(await activeOwners()).toEqual([owner.userId]);
    // Re-enabling an owner is an owner's call too.
    const reenable = await request(t.http).patch(`/api/v1/users/${second.userId}`).set(auth(tenantAdmin.token)).send({ status: 'active' });
    expect(reenable.status).toBe(403);
    expect((await request(t.http).patch(`/api/v1/users/${second.userId}`).set(auth(owner.token)).send({ status: 'active' })).body.status).toBe('active');
    expect((await request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(second.userId)}`).set(auth(owner.token))).status).toBe(204);
  });

  it('under concurrency two owners never leave the tenant without one (self-demotion, mutual demotion, self-disable)', async () => {
    const other = await createMember(t, owner, 'race-owner@scoped.example');
    const sessions = [owner, other];
    for (let round = 0; round < 4; round++) {
      await assign(t, owner, other.userId, 'owner', 'tenant', tenantId);
      const [a, b] = [await ownerAssignment(owner.userId), await ownerAssignment(other.userId)];
      // Each demotes themself at the same time: one wins, the other is the last owner.
      const self = await Promise.all([
        request(t.http).delete(`/api/v1/user-roles/${a}`).set(auth(owner.token)),
        request(t.http).delete(`/api/v1/user-roles/${b}`).set(auth(other.token)),
      ]);
      expect(self.map((r) => r.status).sort()).toEqual([204, 409]);
      expect(await activeOwners()).toHaveLength(1);
      // Put back whoever went, from whoever stayed.
      const [stayed] = await activeOwners();
      const keeper = sessions.find((s) => s.userId === stayed)!;
      const gone = sessions.find((s) => s.userId !== stayed)!;
      await assign(t, keeper, gone.userId, 'owner', 'tenant', tenantId);
      // Each demotes the other at the same time: one wins, the loser is no owner any more (403).
      const mutual = await Promise.all([
        request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(other.userId)}`).set(auth(owner.token)),
        request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(owner.userId)}`).set(auth(other.token)),
      ]);
      expect(mutual.map((r) => r.status).sort()).toEqual([204, 403]);
      expect(await activeOwners()).toHaveLength(1);
      if ((await activeOwners())[0] !== owner.userId) {
        await assign(t, other, owner.userId, 'owner', 'tenant', tenantId);
        expect((await request(t.http).delete(`/api/v1/user-roles/${await ownerAssignment(other.userId)}`).set(auth(owner.token))).status).toBe(204);
      }
      expect(await activeOwners()).toEqual([owner.userId]);
    }
    // Both disable themselves at the same time: one is disabled, the other is the last owner.
    await assign(t, owner, other.userId, 'owner', 'tenant', tenantId);
    const disable = await Promise.all(sessions.map((s) => request(t.http).patch(`/api/v1/users/${s.userId}`).set(auth(s.token)).send({ status: 'disabled' })));
    expect(disable.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await activeOwners()).toHaveLength(1);
  });
});
