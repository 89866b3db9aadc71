import request from 'supertest';
import { KMS, Kms } from '../../src/common/crypto/kms';
import { dekContext } from '../../src/modules/agents/agents.service';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';

describe('agents, enrollment, inventory and data keys (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let workspace: string;
  let environment: string;
  const leaked: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    ({ owner } = await createTenant(t, await setupPlatform(t), 'fleet'));
    workspace = (await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'fleet', display_name: 'Fleet' })).body.id;
    environment = (await request(t.http).post(`/api/v1/workspaces/${workspace}/environments`).set(auth(owner.token)).send({ name: 'prod', protected: true })).body.id;
  });
  afterAll(() => t.close());

  const enroll = (token: string, name = 'a') =>
    request(t.http).post('/api/v1/agents/enroll').set('Authorization', `Bearer ${token}`).send({ name, cluster_name: 'prod-eu', version: '0.1.0', capabilities: ['file'] });
  const newToken = async (body: object) => {
    const res = await request(t.http).post('/api/v1/agents/enrollment-tokens').set(auth(owner.token)).send({ workspace_id: workspace, ...body });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^cse_/);
    leaked.push(res.body.token);
    return res.body;
  };

  it('enrollment tokens: single use by default, N uses when asked, bound to workspace and environment', async () => {
    const single = await newToken({ environment_id: environment });
    const first = await enroll(single.token);
    expect(first.status).toBe(201);
    expect(first.body.agent).toMatchObject({ workspace_id: workspace, environment_id: environment, status: 'offline', has_public_key: false });
    expect(first.body.agent_secret).toMatch(/^csa_/);
    leaked.push(first.body.agent_secret);
    expect((await enroll(single.token)).body.error.code).toBe('INVALID_CREDENTIALS');

    const multi = await newToken({ max_uses: 2 });
    expect((await enroll(multi.token, 'm1')).status).toBe(201);
    expect((await enroll(multi.token, 'm2')).status).toBe(201);
    expect((await enroll(multi.token, 'm3')).status).toBe(401);
    expect((await enroll('cse_not-a-real-token-at-all-000000000000000000')).status).toBe(401);
    expect((await request(t.http).post('/api/v1/agents/enroll').send({ name: 'x', cluster_name: 'x', version: '1', capabilities: [] })).status).toBe(401);
  });

  it('an expired enrollment token is refused', async () => {
    const token = await newToken({ expires_in_seconds: 60 });
    const c = await t.db.client();
    await c.query(`UPDATE agent_enrollment_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [token.id]);
    await c.end();
    expect((await enroll(token.token)).status).toBe(401);
  });

  it('public key registration validates X25519 keys; heartbeat turns the agent online', async () => {
    const res = await enroll((await newToken({})).token, 'keyed');
    const { agent, agent_secret: secret } = res.body;
    leaked.push(secret);
    const put = (key: string) => request(t.http).put(`/api/v1/agents/${agent.id}/public-key`).set('X-Agent-Secret', secret).send({ public_key: key });
    expect((await put('AAAA')).status).toBe(400);
    expect((await put(Buffer.alloc(32, 0).toString('base64'))).status).toBe(400); // low-order point
    const key = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');
    expect((await put(key)).status).toBe(204);
    await request(t.http).post(`/api/v1/agents/${agent.id}/heartbeat`).set('X-Agent-Secret', secret).send({ version: '0.2.0' }).expect(204);
    const shown = await request(t.http).get(`/api/v1/agents/${agent.id}`).set(auth(owner.token));
    expect(shown.body).toMatchObject({ has_public_key: true, status: 'online', version: '0.2.0' });
  });

  it('secrets bulk: created / updated / unchanged / removed, and every filter including repeated labels', async () => {
    const res = await enroll((await newToken({ environment_id: environment })).token, 'reporter');
    const { agent, agent_secret: secret } = res.body;
    leaked.push(secret);
    const bulk = (secrets: object[], fullSync = false) => request(t.http).post(`/api/v1/agents/${agent.id}/secrets/bulk`).set('X-Agent-Secret', secret).send({ secrets, full_sync: fullSync });
    const a = { cluster_name: 'prod-eu', provider: 'kubernetes', ref: 'payments/db/password', labels: { team: 'payments', tier: 'db' } };
    const b = { cluster_name: 'prod-eu', provider: 'kubernetes', ref: 'payments/api/token', labels: { team: 'payments' } };
    const c = { cluster_name: 'prod-eu', provider: 'file', ref: 'ops/ssh/key', labels: { team: 'ops' } };
    expect((await bulk([a, b, c], true)).body).toEqual({ created: 3, updated: 0, unchanged: 0, removed: 0 });
    expect((await bulk([{ ...a, labels: { team: 'payments', tier: 'primary' } }, b], true)).body).toEqual({ created: 0, updated: 1, unchanged: 1, removed: 1 });
    expect((await bulk([{ ...a, value: 'hunter2' }])).status).toBe(400);

    const list = async (q: string) => ((await request(t.http).get(`/api/v1/secrets?${q}`).set(auth(owner.token))).body.data as { ref: string }[]).map((s) => s.ref).sort();
    expect(await list('')).toEqual(['ops/ssh/key', 'payments/api/token', 'payments/db/password']);
    expect(await list('status=removed')).toEqual(['ops/ssh/key']);
    expect(await list('provider=kubernetes&ref_prefix=payments/db')).toEqual(['payments/db/password']);
    expect(await list('label=team:payments')).toEqual(['payments/api/token', 'payments/db/password']);
    expect(await list('label=team:payments&label=tier:primary')).toEqual(['payments/db/password']);
    expect(await list('label=team:payments&label=tier:db')).toEqual([]);
    expect(await list(`workspace_id=${workspace}&environment_id=${environment}&cluster_name=prod-eu`)).toHaveLength(3);
    expect((await request(t.http).get('/api/v1/secrets?label=nocolon').set(auth(owner.token))).status).toBe(400);
    const one = await request(t.http).get('/api/v1/secrets?ref_prefix=payments/db').set(auth(owner.token));
    const got = await request(t.http).get(`/api/v1/secrets/${one.body.data[0].id}`).set(auth(owner.token));
    expect(got.body).toMatchObject({ provider: 'kubernetes', labels: { team: 'payments', tier: 'primary' }, status: 'active', environment_id: environment });
    expect(Object.keys(got.body)).not.toContain('value');
  });

  it('POST /dek issues a 256-bit key whose wrapped form the KMS opens to the same key', async () => {
    const res = await enroll((await newToken({})).token, 'crypto');
    const { agent, agent_secret: secret } = res.body;
    leaked.push(secret);
    const dek = await request(t.http).post(`/api/v1/agents/${agent.id}/dek`).set('X-Agent-Secret', secret);
    expect(dek.status).toBe(201);
    expect(dek.body.dek_id).toMatch(/^dek_/);
    const raw = Buffer.from(dek.body.dek, 'base64');
    expect(raw).toHaveLength(32);
    leaked.push(dek.body.dek);
    const opened = await t.app.get<Kms>(KMS).unwrap(dek.body.wrapped_dek, dekContext(agent.tenant_id, dek.body.dek_id));
    expect(opened.equals(raw)).toBe(true);
    await expect(t.app.get<Kms>(KMS).unwrap(dek.body.wrapped_dek, dekContext(agent.tenant_id, 'dek_other'))).rejects.toThrow();
  });

  it('mint returns the secret once; lists, logs and audit payloads never contain a secret, token or DEK', async () => {
    const minted = await request(t.http).post('/api/v1/agents').set(auth(owner.token)).send({ name: 'minted', workspace_id: workspace, cluster_name: 'c', capabilities: ['file'] });
    expect(minted.status).toBe(201);
    leaked.push(minted.body.agent_secret);
    const lists = [
      (await request(t.http).get('/api/v1/agents').set(auth(owner.token))).text,
      (await request(t.http).get(`/api/v1/agents/${minted.body.agent.id}`).set(auth(owner.token))).text,
      (await request(t.http).get('/api/v1/audit-events?limit=200').set(auth(owner.token))).text,
      (await request(t.http).get('/api/v1/jobs').set(auth(owner.token))).text,
    ];
    const c = await t.db.client();
    const audit = JSON.stringify((await c.query(`SELECT payload FROM audit_events`)).rows);
    const tables = JSON.stringify((await c.query(`SELECT * FROM agents`)).rows) + JSON.stringify((await c.query(`SELECT * FROM agent_enrollment_tokens`)).rows) + JSON.stringify((await c.query(`SELECT * FROM deks`)).rows);
    await c.end();
    expect(leaked.length).toBeGreaterThanOrEqual(8);
    for (const secret of leaked) {
      for (const text of [...lists, audit, t.logs.text, tables]) expect(text).not.toContain(secret);
    }
  });
});
