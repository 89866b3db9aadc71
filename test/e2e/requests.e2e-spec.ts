import { createCipheriv, randomBytes } from 'node:crypto';
import request from 'supertest';
import { generateX25519KeyPair, openSealed } from '../../src/common/crypto/x25519-seal';
import { createTestApp, TestApp } from '../helpers/test-app';
import { assign, auth, createMember, createTenant, roleId, Session, setupPlatform } from '../helpers/identity';

interface World {
  owner: Session;
  tenantId: string;
  workspace: string;
  prod: string;
  dev: string;
  agent: { id: string; secret: string };
  secretProd: string;
  secretDev: string;
}

async function world(t: TestApp, slug: string): Promise<World> {
  const { owner, tenantId } = await createTenant(t, await setupPlatform(t), slug);
  const as = auth(owner.token);
  const workspace = (await request(t.http).post('/api/v1/workspaces').set(as).send({ slug: 'pay', display_name: 'Pay' })).body.id;
  const prod = (await request(t.http).post(`/api/v1/workspaces/${workspace}/environments`).set(as).send({ name: 'prod', protected: true })).body.id;
  const dev = (await request(t.http).post(`/api/v1/workspaces/${workspace}/environments`).set(as).send({ name: 'dev' })).body.id;
  const report = async (environment_id: string, ref: string) => {
    const minted = await request(t.http).post('/api/v1/agents').set(as).send({ name: `agent-${ref}`, workspace_id: workspace, environment_id, cluster_name: 'c1', capabilities: ['file'] });
    const agent = { id: minted.body.agent.id as string, secret: minted.body.agent_secret as string };
    await request(t.http).post(`/api/v1/agents/${agent.id}/secrets/bulk`).set('X-Agent-Secret', agent.secret).send({ secrets: [{ cluster_name: 'c1', provider: 'file', ref }] }).expect(200);
    const listed = await request(t.http).get(`/api/v1/secrets?ref_prefix=${ref}`).set(as);
    return { agent, secretId: listed.body.data[0].id as string };
  };
  const p = await report(prod, 'prod/db');
  const d = await report(dev, 'dev/db');
  return { owner, tenantId, workspace, prod, dev, agent: p.agent, secretProd: p.secretId, secretDev: d.secretId };
}

describe('requests: the governed path (e2e)', () => {
  let t: TestApp;
  let w: World;
  let alice: Session; // requester
  let bob: Session; // approver

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    w = await world(t, 'gov');
    alice = await createMember(t, w.owner, 'alice@gov.example');
    bob = await createMember(t, w.owner, 'bob@gov.example');
    await assign(t, w.owner, alice.userId, 'requester', 'tenant', w.tenantId);
    await assign(t, w.owner, bob.userId, 'approver', 'tenant', w.tenantId);
  });
  afterAll(() => t.close());

  const agentCall = (method: 'get' | 'post' | 'put', path: string) => request(t.http)[method](`/api/v1/agents/${w.agent.id}${path}`).set('X-Agent-Secret', w.agent.secret);

  it('read flow: request → approval → job → agent wrap → requester reveals once → 410', async () => {
    const created = await request(t.http).post('/api/v1/requests/read').set(auth(alice.token)).send({ secret_id: w.secretProd, reason: 'debug the payment outage' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'secret.read', status: 'pending_approval', current_stage: 0, workspace_id: w.workspace, environment_id: w.prod });
    expect(created.body.policy_decision).toMatchObject({ effect: 'require_approval', policy_id: null });
    expect(created.body.workflow.stages[0]).toMatchObject({ required_approvals: 1 });

    const approvers = await request(t.http).get(`/api/v1/requests/${created.body.id}/approvers`).set(auth(alice.token));
    expect(approvers.body).toMatchObject({ stage: 0, required: 1, remaining: 1, ineligible_reason_for_caller: expect.any(String) });
    expect(approvers.body.eligible.map((e: { email: string }) => e.email)).toEqual(expect.arrayContaining(['bob@gov.example']));
    expect(approvers.body.eligible.map((e: { email: string }) => e.email)).not.toContain('alice@gov.example');
    const inbox = await request(t.http).get('/api/v1/approvals').set(auth(bob.token));
    expect(inbox.body.data.map((r: { id: string }) => r.id)).toContain(created.body.id);

    // Alice holds no request.approve at all: the guard stops her before the approval rules.
    expect((await request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(alice.token)).send({})).body.error.code).toBe('PERMISSION_DENIED');
    const approved = await request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(bob.token)).send({ comment: 'ok' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('executing');
    expect(approved.body.job_id).toMatch(/^job_/);

    const job = await agentCall('post', '/jobs/claim').send({});
    expect(job.body).toMatchObject({ type: 'secret.read', request_id: created.body.id, payload: { secret: { id: w.secretProd, provider: 'file', ref: 'prod/db' } } });
    const dek = await agentCall('post', '/dek');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(dek.body.dek, 'base64'), iv);
    const ciphertext = Buffer.concat([cipher.update('s3cr3t-pr0d-password', 'utf8'), cipher.final()]);
    const wrap = await agentCall('post', '/wraps').send({ job_id: job.body.id, dek_id: dek.body.dek_id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') });
    expect(wrap.status).toBe(201);
    await agentCall('post', `/jobs/${job.body.id}/complete`).send({ lease_token: job.body.lease_token, status: 'succeeded' }).expect(204);

    const done = await request(t.http).get(`/api/v1/requests/${created.body.id}`).set(auth(alice.token));
    expect(done.body.status).toBe('completed');
    expect(done.body.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['request.created', 'request.submitted', 'request.approved', 'request.execution_started', 'request.completed']));
    const wraps = await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps`).set(auth(alice.token));
    expect(wraps.body).toEqual([{ id: wrap.body.wrap_id, created_at: expect.any(String), expires_at: expect.any(String), consumed_at: null }]);
    expect((await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps/${wrap.body.wrap_id}`).set(auth(bob.token))).status).toBe(404);
    const revealed = await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps/${wrap.body.wrap_id}`).set(auth(alice.token));
    expect(revealed.body).toEqual({ value: 's3cr3t-pr0d-password' });
    const again = await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps/${wrap.body.wrap_id}`).set(auth(alice.token));
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('WRAP_CONSUMED');
    const c = await t.db.client();
    const stored = await c.query(`SELECT ciphertext, iv, tag, wrapped_dek, consumed_at FROM wraps WHERE id = $1`, [wrap.body.wrap_id]);
    await c.end();
    expect(stored.rows[0]).toMatchObject({ ciphertext: null, iv: null, tag: null, wrapped_dek: null });
    expect(stored.rows[0].consumed_at).not.toBeNull();
    expect(t.logs.text).not.toContain('s3cr3t-pr0d-password');
  });

  it('patch flow: the value is envelope-encrypted on arrival and handed to the agent once, sealed to its key', async () => {
    const keys = generateX25519KeyPair();
    await agentCall('put', '/public-key').send({ public_key: keys.publicKeyRaw.toString('base64') }).expect(204);
    const created = await request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ type: 'secret.patch', title: 'rotate db pw', reason: 'leaked in a log', secret_id: w.secretProd, value: 'n3w-patched-value' });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('n3w-patched-value');
    await request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(bob.token)).send({}).expect(200);
    const job = await agentCall('post', '/jobs/claim').send({});
    expect(job.body.type).toBe('secret.patch');
    const sealed = await agentCall('get', `/wraps/${job.body.payload.wrap_id}`);
    expect(sealed.status).toBe(200);
    expect(openSealed(keys.privateKey, sealed.body).toString('utf8')).toBe('n3w-patched-value');
    expect((await agentCall('get', `/wraps/${job.body.payload.wrap_id}`)).status).toBe(410);
    await agentCall('post', `/jobs/${job.body.id}/complete`).send({ lease_token: job.body.lease_token, status: 'succeeded' }).expect(204);
    expect((await request(t.http).get(`/api/v1/requests/${created.body.id}`).set(auth(alice.token))).body.status).toBe('completed');

    const c = await t.db.client();
    const dump = JSON.stringify((await c.query(`SELECT * FROM requests`)).rows) + JSON.stringify((await c.query(`SELECT * FROM wraps`)).rows) + JSON.stringify((await c.query(`SELECT * FROM audit_events`)).rows) + JSON.stringify((await c.query(`SELECT * FROM idempotency_keys`)).rows);
    await c.end();
    expect(dump).not.toContain('n3w-patched-value');
    expect(t.logs.text).not.toContain('n3w-patched-value');
  });

  it('value rules: required for secret.patch, refused elsewhere; unknown type; draft then submit', async () => {
    const base = { title: 't', reason: 'r', secret_id: w.secretProd };
    expect((await request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ ...base, type: 'secret.patch' })).body.error.details[0].field).toBe('value');
    expect((await request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ ...base, type: 'secret.rotate', value: 'x' })).body.error.details[0].field).toBe('value');
    expect((await request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ ...base, type: 'nope.nope' })).status).toBe(400);
    const draft = await request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ ...base, type: 'secret.rotate', submit: false });
    expect(draft.body.status).toBe('draft');
    expect((await request(t.http).post(`/api/v1/requests/${draft.body.id}/approve`).set(auth(bob.token)).send({})).body.error).toMatchObject({ code: 'INVALID_STATE_TRANSITION', details: [{ current_status: 'draft', allowed: ['submit', 'cancel'] }] });
    const submitted = await request(t.http).post(`/api/v1/requests/${draft.body.id}/submit`).set(auth(alice.token));
    expect(submitted.body.status).toBe('pending_approval');
    const cancelled = await request(t.http).post(`/api/v1/requests/${draft.body.id}/cancel`).set(auth(alice.token)).send({ reason: 'not needed' });
    expect(cancelled.body.status).toBe('cancelled');
  });
});
