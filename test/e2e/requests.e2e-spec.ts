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
    expect(wraps.body).toEqual({ data: [{ id: wrap.body.wrap_id, created_at: expect.any(String), expires_at: expect.any(String), consumed_at: null }], pagination: { limit: 50, next_cursor: null, has_more: false } });
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

describe('approvals and policies (e2e)', () => {
  let t: TestApp;
  let w: World;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    w = await world(t, 'stages');
  });
  afterAll(() => t.close());

  const as = () => auth(w.owner.token);
  const approve = (s: Session, id: string) => request(t.http).post(`/api/v1/requests/${id}/approve`).set(auth(s.token)).send({});

  it('a two-stage workflow: 2 approvers of role A, then 1 of role B; self, double and wrong-stage approvals are 422; a rejection is final', async () => {
    const roleA = (await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'stage-a', permissions: ['request.approve', 'request.create', 'secret.read_metadata'] })).body.id;
    const roleB = (await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'stage-b', permissions: ['request.approve'] })).body.id;
    const wf = await request(t.http).post('/api/v1/workflows').set(as()).send({
      name: 'two-stage',
      stages: [
        { name: 'peers', required_approvals: 2, approver_role_ids: [roleA] },
        { name: 'security', required_approvals: 1, approver_role_ids: [roleB] },
      ],
    });
    expect(wf.status).toBe(201);
    await request(t.http).post('/api/v1/policies').set(as()).send({ name: 'rotate needs two stages', priority: 10, effect: 'require_approval', workflow_id: wf.body.id, match: { request_types: ['secret.rotate'] } }).expect(201);

    const users: Session[] = [];
    for (const name of ['req', 'a1', 'a2', 'a3', 'b1']) users.push(await createMember(t, w.owner, `${name}@stages.example`));
    const [requester, a1, a2, a3, b1] = users;
    for (const u of [requester, a1, a2, a3]) await request(t.http).post('/api/v1/user-roles').set(as()).send({ user_id: u.userId, role_id: roleA, scope_type: 'tenant', scope_id: w.tenantId }).expect(201);
    await request(t.http).post('/api/v1/user-roles').set(as()).send({ user_id: b1.userId, role_id: roleB, scope_type: 'workspace', scope_id: w.workspace }).expect(201);

    const created = await request(t.http).post('/api/v1/requests').set(auth(requester.token)).send({ type: 'secret.rotate', title: 'rotate', reason: 'quarterly', secret_id: w.secretDev });
    expect(created.body).toMatchObject({ status: 'pending_approval', current_stage: 0, workflow: { id: wf.body.id, version: 1 } });
    const id = created.body.id;

    expect((await approve(requester, id)).body.error.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await approve(b1, id)).body.error.code).toBe('NOT_AN_ELIGIBLE_APPROVER');
    expect((await approve(a1, id)).body).toMatchObject({ status: 'pending_approval', current_stage: 0 });
    const twice = await approve(a1, id);
    expect(twice.status).toBe(422);
    expect(twice.body.error.code).toBe('ALREADY_DECIDED');
    expect((await approve(a2, id)).body).toMatchObject({ status: 'pending_approval', current_stage: 1 });
    expect((await approve(a3, id)).body.error.code).toBe('NOT_AN_ELIGIBLE_APPROVER');
    const waiting = await request(t.http).get(`/api/v1/requests/${id}/approvers`).set(auth(b1.token));
    expect(waiting.body).toMatchObject({ stage: 1, stage_name: 'security', required: 1, remaining: 1, ineligible_reason_for_caller: null });
    expect(waiting.body.eligible).toEqual([{ user_id: b1.userId, email: 'b1@stages.example', via: [{ via: 'role', role_id: roleB, group_id: null, group_name: null }] }]);
    const done = await approve(b1, id);
    expect(done.body.status).toBe('executing');
    expect(done.body.approvals.map((a: { stage: number }) => a.stage)).toEqual([0, 0, 1]);

    // Workflow edits version it; the in-flight request keeps its snapshot.
    const put = await request(t.http).put(`/api/v1/workflows/${wf.body.id}`).set(as()).send({ name: 'two-stage', stages: [{ name: 'solo', required_approvals: 1, approver_role_ids: [roleB] }] });
    expect(put.body.version).toBe(2);
    expect((await request(t.http).get(`/api/v1/requests/${id}`).set(as())).body.workflow.stages).toHaveLength(2);

    const second = await request(t.http).post('/api/v1/requests').set(auth(requester.token)).send({ type: 'secret.rotate', title: 'rotate', reason: 'again', secret_id: w.secretDev });
    expect(second.body.workflow.version).toBe(2);
    const rejected = await request(t.http).post(`/api/v1/requests/${second.body.id}/reject`).set(auth(b1.token)).send({ reason: 'not now' });
    expect(rejected.body.status).toBe('rejected');
    const late = await approve(b1, second.body.id);
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'INVALID_STATE_TRANSITION', details: [{ current_status: 'rejected', allowed: [] }] });
  });

  it('20 concurrent approvals on a one-stage, two-approval workflow: exactly 2 approvals, one approved transition, one job', async () => {
    const role = (await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'crowd', permissions: ['request.approve'] })).body.id;
    const wf = await request(t.http).post('/api/v1/workflows').set(as()).send({ name: 'two-of-many', stages: [{ name: 'crowd', required_approvals: 2, approver_role_ids: [role] }] });
    await request(t.http).post('/api/v1/policies').set(as()).send({ name: 'patch needs two', priority: 20, effect: 'require_approval', workflow_id: wf.body.id, match: { request_types: ['secret.patch'] } }).expect(201);
    const crowd: Session[] = [];
    for (let i = 0; i < 20; i++) {
      const u = await createMember(t, w.owner, `crowd${i}@stages.example`);
      await request(t.http).post('/api/v1/user-roles').set(as()).send({ user_id: u.userId, role_id: role, scope_type: 'tenant', scope_id: w.tenantId }).expect(201);
      crowd.push(u);
    }
    const created = await request(t.http).post('/api/v1/requests').set(as()).send({ type: 'secret.patch', title: 'p', reason: 'r', secret_id: w.secretDev, value: 'crowd-value' });
    expect(created.body.status).toBe('pending_approval');
    const results = await Promise.all(crowd.map((u) => approve(u, created.body.id)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.every((s) => s === 200 || s === 409 || s === 422)).toBe(true);
    const c = await t.db.client();
    const approvals = await c.query(`SELECT count(*)::int AS n FROM approvals WHERE request_id = $1`, [created.body.id]);
    const jobs = await c.query(`SELECT count(*)::int AS n FROM jobs WHERE owner_type = 'request' AND owner_id = $1`, [created.body.id]);
    const transitions = await c.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'request.approved' AND resource_id = $1`, [created.body.id]);
    await c.end();
    expect(approvals.rows[0].n).toBe(2);
    expect(jobs.rows[0].n).toBe(1);
    expect(transitions.rows[0].n).toBe(1);
  });

  it('policies at submit: deny on protected rotate, auto-approve for reads in dev, higher-priority require_approval wins', async () => {
    const deny = await request(t.http)
      .post('/api/v1/policies')
      .set(as())
      .send({ name: 'no prod rotations', priority: 100, effect: 'deny', match: {}, condition: 'request.environment_protected && request.type == "secret.rotate"' });
    expect(deny.status).toBe(201);
    const rotate = await request(t.http).post('/api/v1/requests').set(as()).send({ type: 'secret.rotate', title: 'r', reason: 'r', secret_id: w.secretProd });
    expect(rotate.body.status).toBe('rejected');
    expect(rotate.body.policy_decision).toMatchObject({ effect: 'deny', policy_id: deny.body.id });
    expect(JSON.stringify(rotate.body.policy_decision.explanation)).toContain('no prod rotations');

    const auto = await request(t.http).post('/api/v1/policies').set(as()).send({ name: 'dev reads are free', priority: 5, effect: 'auto_approve', match: { request_types: ['secret.read'], environment_ids: [w.dev] } });
    const read = await request(t.http).post('/api/v1/requests/read').set(as()).send({ secret_id: w.secretDev, reason: 'local debugging' });
    expect(read.body.status).toBe('executing');
    expect(read.body.policy_decision).toMatchObject({ effect: 'auto_approve', policy_id: auto.body.id });

    const strict = await request(t.http).post('/api/v1/policies').set(as()).send({ name: 'dev reads need approval after all', priority: 50, effect: 'require_approval', workflow_id: (await request(t.http).get('/api/v1/workflows').set(as())).body.data[0].id, match: { request_types: ['secret.read'] } });
    expect(strict.status).toBe(201);
    const read2 = await request(t.http).post('/api/v1/requests/read').set(as()).send({ secret_id: w.secretDev, reason: 'again' });
    expect(read2.body.status).toBe('pending_approval');
    expect(read2.body.policy_decision).toMatchObject({ effect: 'require_approval', policy_id: strict.body.id });
  });

  it('break-glass approves at once with a reason of 20+ characters, and is audited', async () => {
    const created = await request(t.http).post('/api/v1/requests/read').set(as()).send({ secret_id: w.secretProd, reason: 'incident' });
    expect(created.body.status).toBe('pending_approval');
    expect((await request(t.http).post(`/api/v1/requests/${created.body.id}/break-glass`).set(as()).send({ reason: 'too short' })).status).toBe(400);
    const glass = await request(t.http).post(`/api/v1/requests/${created.body.id}/break-glass`).set(as()).send({ reason: 'sev-1: payments down, on-call needs the db password' });
    expect(glass.body).toMatchObject({ status: 'executing', break_glass: true });
    const events = await request(t.http).get(`/api/v1/audit-events?action=request.break_glass&resource_id=${created.body.id}`).set(as());
    expect(events.body.data).toHaveLength(1);
  });

  it('approval_timeout_seconds: the sweeper moves stale pending requests to expired', async () => {
    const role = await roleId(t, w.owner, 'approver');
    const wf = await request(t.http).post('/api/v1/workflows').set(as()).send({ name: 'short-fuse', approval_timeout_seconds: 60, stages: [{ name: 's', required_approvals: 1, approver_role_ids: [role] }] });
    await request(t.http).post('/api/v1/policies').set(as()).send({ name: 'short-fuse rotations', priority: 60, effect: 'require_approval', workflow_id: wf.body.id, match: { request_types: ['secret.rotate'], environment_ids: [w.dev] } }).expect(201);
    const created = await request(t.http).post('/api/v1/requests').set(as()).send({ type: 'secret.rotate', title: 'r', reason: 'r', secret_id: w.secretDev });
    expect(created.body.status).toBe('pending_approval');
    expect(created.body.approval_expires_at).not.toBeNull();
    const c = await t.db.client();
    await c.query(`UPDATE requests SET approval_expires_at = now() - interval '1 second' WHERE id = $1`, [created.body.id]);
    await c.end();
    const { RequestExpirySweeper } = await import('../../src/modules/requests/request-expiry.sweeper');
    expect(await t.app.get(RequestExpirySweeper).expireStale()).toBeGreaterThanOrEqual(1);
    const after = await request(t.http).get(`/api/v1/requests/${created.body.id}`).set(as());
    expect(after.body.status).toBe('expired');
    expect(after.body.timeline.map((e: { action: string }) => e.action)).toContain('request.expired');
  });
});
