import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { assign, auth, createMember, createTenant, login, Session, setupPlatform } from '../helpers/identity';

/** Regressions for defects found in review: each test failed before its fix. */
describe('review fixes (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  let acme: { tenantId: string; owner: Session };
  let bravo: { tenantId: string; owner: Session };

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    admin = await setupPlatform(t);
    acme = await createTenant(t, admin, 'acme');
    bravo = await createTenant(t, admin, 'bravo');
  });
  afterAll(() => t.close());

  const sql = async (text: string, params: unknown[] = []) => {
    const c = await t.db.client();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };

  it('another tenant cannot take over a still-invited user with its own invitation (account takeover)', async () => {
    const created = await request(t.http).post('/api/v1/tenants').set(auth(admin.token)).send({ slug: 'gamma', display_name: 'G', admin_email: 'gina@gamma.example' });
    const hijack = await request(t.http).post('/api/v1/users').set(auth(bravo.owner.token)).send({ email: 'gina@gamma.example', name: 'Gina' });
    expect(hijack.status).toBe(201);
    // Bravo gets an invitation like for any email, but it cannot set the password of Gina's (still passwordless) account.
    expect((await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: hijack.body.invitation_token, password: 'attacker password 1' })).status).toBe(401);
    const accepted = await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: created.body.admin_invitation_token, password: 'gina password 123' });
    expect(accepted.status).toBe(200);
    expect((await request(t.http).post('/api/v1/auth/login').send({ email: 'gina@gamma.example', password: 'attacker password 1' })).status).toBe(401);
  });

  it('a workspace-scoped user.manage cannot disable the tenant owner', async () => {
    const ws = (await request(t.http).post('/api/v1/workspaces').set(auth(acme.owner.token)).send({ slug: 'um', display_name: 'U' })).body.id;
    const dave = await createMember(t, acme.owner, 'dave@acme.example');
    await assign(t, acme.owner, dave.userId, 'admin', 'workspace', ws);
    const res = await request(t.http).patch(`/api/v1/users/${acme.owner.userId}`).set(auth(dave.token)).send({ status: 'disabled' });
    expect(res.status).toBe(403);
    expect((await request(t.http).get('/api/v1/auth/me').set(auth(acme.owner.token))).status).toBe(200);
  });

  it('switch-tenant ignores Idempotency-Key: no token pair is stored', async () => {
    const invited = await request(t.http).post('/api/v1/users').set(auth(bravo.owner.token)).send({ email: 'owner@acme.example', name: 'x' }).expect(201);
    await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: invited.body.invitation_token, password: 'owner password 123' }).expect(200);
    const s = await login(t, 'owner@acme.example', 'owner password 123', acme.tenantId);
    const res = await request(t.http).post('/api/v1/auth/switch-tenant').set(auth(s.token)).set('Idempotency-Key', 'switch-key-1').send({ tenant_id: bravo.tenantId });
    expect(res.status).toBe(200);
    expect(await sql(`SELECT 1 FROM idempotency_keys WHERE key = 'switch-key-1'`)).toEqual([]);
  });

  it('an Idempotency-Key never crosses tenants for a user in both', async () => {
    const inAcme = await login(t, 'owner@acme.example', 'owner password 123', acme.tenantId);
    const inBravo = await login(t, 'owner@acme.example', 'owner password 123', bravo.tenantId);
    await assign(t, bravo.owner, inBravo.userId, 'admin', 'tenant', bravo.tenantId);
    const body = { slug: 'same-key', display_name: 'S' };
    const a = await request(t.http).post('/api/v1/workspaces').set(auth(inAcme.token)).set('Idempotency-Key', 'cross-tenant-1').send(body);
    const b = await request(t.http).post('/api/v1/workspaces').set(auth(inBravo.token)).set('Idempotency-Key', 'cross-tenant-1').send(body);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers['x-idempotency-replayed']).toBeUndefined();
    expect(b.body.tenant_id).toBe(bravo.tenantId);
  });

  it('concurrent creates of one slug: one 201, the rest 409 (no 500)', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => request(t.http).post('/api/v1/workspaces').set(auth(acme.owner.token)).send({ slug: 'race', display_name: 'R' })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  describe('scopes stay put', () => {
    let ws: string;
    let prod: string;
    let dev: string;
    const as = () => auth(acme.owner.token);
    const mint = async (environment_id: string) => {
      const r = await request(t.http).post('/api/v1/agents').set(as()).send({ name: 'a', workspace_id: ws, environment_id, cluster_name: 'c1', capabilities: ['file'] });
      return { id: r.body.agent.id as string, secret: r.body.agent_secret as string };
    };

    beforeAll(async () => {
      ws = (await request(t.http).post('/api/v1/workspaces').set(as()).send({ slug: 'scopes', display_name: 'S' })).body.id;
      prod = (await request(t.http).post(`/api/v1/workspaces/${ws}/environments`).set(as()).send({ name: 'prod', protected: true })).body.id;
      dev = (await request(t.http).post(`/api/v1/workspaces/${ws}/environments`).set(as()).send({ name: 'dev' })).body.id;
    });

    it('an environment with live agents cannot be deleted (its agents would become workspace-wide)', async () => {
      await mint(dev);
      const res = await request(t.http).delete(`/api/v1/environments/${dev}`).set(as());
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'IN_USE', details: [{ used_by: expect.arrayContaining(['agents']) }] });
    });

    it("an agent cannot re-home or remove another live agent's secrets", async () => {
      const prodAgent = await mint(prod);
      const devAgent = await mint(dev);
      const item = { cluster_name: 'c1', provider: 'file', ref: 'db/password' };
      await request(t.http).post(`/api/v1/agents/${prodAgent.id}/secrets/bulk`).set('X-Agent-Secret', prodAgent.secret).send({ secrets: [item] }).expect(200);
      await request(t.http).post(`/api/v1/agents/${devAgent.id}/secrets/bulk`).set('X-Agent-Secret', devAgent.secret).send({ secrets: [{ ...item, labels: { x: 'y' } }] }).expect(200);
      await request(t.http).post(`/api/v1/agents/${devAgent.id}/secrets/bulk`).set('X-Agent-Secret', devAgent.secret).send({ secrets: [], full_sync: true }).expect(200);
      const [row] = await sql(`SELECT environment_id, agent_id, status, labels FROM secrets WHERE ref = 'db/password' AND workspace_id = $1`, [ws]);
      expect(row).toEqual({ environment_id: prod, agent_id: prodAgent.id, status: 'active', labels: {} });
    });

    it('a workspace-scoped request.read_all lists only that workspace', async () => {
      const other = (await request(t.http).post('/api/v1/workspaces').set(as()).send({ slug: 'other', display_name: 'O' })).body.id;
      const otherEnv = (await request(t.http).post(`/api/v1/workspaces/${other}/environments`).set(as()).send({ name: 'x' })).body.id;
      const agent = await request(t.http).post('/api/v1/agents').set(as()).send({ name: 'o', workspace_id: other, environment_id: otherEnv, cluster_name: 'c9', capabilities: ['file'] });
      await request(t.http).post(`/api/v1/agents/${agent.body.agent.id}/secrets/bulk`).set('X-Agent-Secret', agent.body.agent_secret).send({ secrets: [{ cluster_name: 'c9', provider: 'file', ref: 'o/s' }] }).expect(200);
      const secret = (await request(t.http).get('/api/v1/secrets?ref_prefix=o/').set(as())).body.data[0].id;
      const elsewhere = await request(t.http).post('/api/v1/requests/read').set(as()).send({ secret_id: secret, reason: 'r' });
      const eve = await createMember(t, acme.owner, 'eve@acme.example');
      await assign(t, acme.owner, eve.userId, 'admin', 'workspace', ws);
      const listed = await request(t.http).get('/api/v1/requests').set(auth(eve.token));
      expect(listed.body.data.map((r: { id: string }) => r.id)).not.toContain(elsewhere.body.id);
    });

    it('deleting a workspace: 409 while a request executes; afterwards its agents and enrollment tokens stop working', async () => {
      const w2 = (await request(t.http).post('/api/v1/workspaces').set(as()).send({ slug: 'doomed', display_name: 'D' })).body.id;
      const agent = await request(t.http).post('/api/v1/agents').set(as()).send({ name: 'd', workspace_id: w2, cluster_name: 'cd', capabilities: ['file'] });
      const token = (await request(t.http).post('/api/v1/agents/enrollment-tokens').set(as()).send({ workspace_id: w2 })).body.token;
      await request(t.http).post(`/api/v1/agents/${agent.body.agent.id}/secrets/bulk`).set('X-Agent-Secret', agent.body.agent_secret).send({ secrets: [{ cluster_name: 'cd', provider: 'file', ref: 'd/s' }] }).expect(200);
      const secret = (await request(t.http).get('/api/v1/secrets?ref_prefix=d/').set(as())).body.data[0].id;
      const req = await request(t.http).post('/api/v1/requests/read').set(as()).send({ secret_id: secret, reason: 'r' });
      await request(t.http).post(`/api/v1/requests/${req.body.id}/break-glass`).set(as()).send({ reason: 'needed right now for the incident' }).expect(200);
      const busy = await request(t.http).delete(`/api/v1/workspaces/${w2}`).set(as());
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('IN_USE');
      // The execution ends (as when its job dies); then the workspace can go.
      await sql(`UPDATE requests SET status = 'failed' WHERE id = $1`, [req.body.id]);
      await request(t.http).delete(`/api/v1/workspaces/${w2}`).set(as()).expect(200);
      expect((await request(t.http).post(`/api/v1/agents/${agent.body.agent.id}/heartbeat`).set('X-Agent-Secret', agent.body.agent_secret).send({})).status).toBe(401);
      const enroll = await request(t.http).post('/api/v1/agents/enroll').set('Authorization', `Bearer ${token}`).send({ name: 'n', cluster_name: 'c', version: '1', capabilities: [] });
      expect(enroll.status).toBe(401);
    });
  });
});
