import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { assign, auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';

const SECRET = 'aws-secret-9f8e7d6c5b4a-DO-NOT-LEAK';
const TYPE = 'aws.rotate_iam_access_key';

interface Claimed {
  id: string;
  type: string;
  request_id: string;
  payload: Record<string, unknown>;
  lease_token: string;
}

describe('change requests of a plugin type: target, policies, agent execution, rollback, disable (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let alice: Session; // requester with aws.iam.rotate in the workspace
  let bob: Session; // approver
  let tenantId: string;
  let workspace: string;
  let prod: string;
  let pluginId: string;
  let agent: { id: string; secret: string };
  const as = () => auth(owner.token);

  const create = (s: Session, target: unknown, extra: object = {}) =>
    request(t.http).post('/api/v1/requests').set(auth(s.token)).send({ type: TYPE, title: 'rotate key', reason: 'key found in a CI log', workspace_id: workspace, environment_id: prod, target, ...extra });
  const claim = async (): Promise<Claimed> => {
    const res = await request(t.http).post(`/api/v1/agents/${agent.id}/jobs/claim`).set('X-Agent-Secret', agent.secret).send({ wait_seconds: 5 });
    if (res.status !== 200) throw new Error(`claim: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Claimed;
  };
  const complete = (job: Claimed, body: object) => request(t.http).post(`/api/v1/agents/${agent.id}/jobs/${job.id}/complete`).set('X-Agent-Secret', agent.secret).send({ lease_token: job.lease_token, ...body });
  const get = (id: string) => request(t.http).get(`/api/v1/requests/${id}`).set(as());
  const approved = async (target: object) => {
    const created = await create(alice, target);
    expect(created.body.status).toBe('pending_approval');
    const res = await request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(bob.token)).send({});
    expect(res.body.status).toBe('executing');
    return res.body as { id: string; job_id: string };
  };

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    ({ owner, tenantId } = await createTenant(t, await setupPlatform(t), 'changes'));
    workspace = (await request(t.http).post('/api/v1/workspaces').set(as()).send({ slug: 'cloud', display_name: 'Cloud' })).body.id;
    prod = (await request(t.http).post(`/api/v1/workspaces/${workspace}/environments`).set(as()).send({ name: 'prod', protected: true })).body.id;
    const minted = await request(t.http).post('/api/v1/agents').set(as()).send({ name: 'aws-agent', workspace_id: workspace, environment_id: prod, cluster_name: 'aws-prod', capabilities: ['aws-iam'] });
    agent = { id: minted.body.agent.id, secret: minted.body.agent_secret };
    const installed = await request(t.http).post('/api/v1/plugins').set(as()).send({ catalog_id: 'aws-iam', settings: { region: 'eu-west-1', secret_access_key: SECRET } });
    expect(installed.status).toBe(201);
    pluginId = installed.body.id;
    alice = await createMember(t, owner, 'alice@changes.example');
    bob = await createMember(t, owner, 'bob@changes.example');
    await assign(t, owner, alice.userId, 'requester', 'tenant', tenantId);
    await assign(t, owner, bob.userId, 'approver', 'tenant', tenantId);
  });
  afterAll(() => t.close());

  it('the plugin permission is in the catalog and in a role (anti-escalation applies); creation needs it at the scope', async () => {
    const catalog = await request(t.http).get('/api/v1/permissions').set(auth(alice.token));
    expect(catalog.body).toContainEqual({ key: 'aws.iam.rotate', description: expect.any(String), source: 'plugin:aws-iam' });
    expect(catalog.body.filter((p: { source: string }) => p.source === 'core').length).toBeGreaterThan(20);

    // Without aws.iam.rotate, alice (request.create) is refused, naming the permission.
    const denied = await create(alice, { iam_user: 'deploy-bot' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details[0].permission).toBe('aws.iam.rotate');

    const role = await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'iam-rotator', permissions: ['aws.iam.rotate'] });
    expect(role.status).toBe(201);
    expect(role.body.permissions).toEqual(['aws.iam.rotate']);
    expect((await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'typo', permissions: ['aws.iam.rotat'] })).status).toBe(400);
    // A tenant role editor who does not hold aws.iam.rotate cannot hand it out.
    const editorRole = await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'role-editor', permissions: ['role.edit', 'role.read'] });
    const editor = await createMember(t, owner, 'editor@changes.example');
    await request(t.http).post('/api/v1/user-roles').set(as()).send({ user_id: editor.userId, role_id: editorRole.body.id, scope_type: 'tenant', scope_id: tenantId }).expect(201);
    const escalation = await request(t.http).post('/api/v1/roles').set(auth(editor.token)).send({ name: 'sneaky', permissions: ['aws.iam.rotate'] });
    expect(escalation.status).toBe(403);
    expect(escalation.body.error.code).toBe('PRIVILEGE_ESCALATION');

    await request(t.http).post('/api/v1/user-roles').set(as()).send({ user_id: alice.userId, role_id: role.body.id, scope_type: 'workspace', scope_id: workspace }).expect(201);
    const me = await request(t.http).get('/api/v1/auth/me').set(auth(alice.token));
    expect(JSON.stringify(me.body.permissions)).toContain('aws.iam.rotate');
  });

  it('a bad target → 422 INVALID_TARGET naming each field; workspace_id is required; a secret_id is refused', async () => {
    const missing = await create(alice, {});
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'INVALID_TARGET', details: [{ field: 'target.iam_user', issue: expect.stringContaining('iam_user') }] });
    const extra = await create(alice, { iam_user: 7, role: 'admin' });
    expect(extra.body.error.details).toEqual(expect.arrayContaining([{ field: 'target.role', issue: 'must NOT have additional properties' }, { field: 'target.iam_user', issue: 'must be string' }]));
    expect((await create(alice, undefined)).body.error).toMatchObject({ code: 'INVALID_TARGET', details: [{ field: 'target', issue: 'must be object' }] });
    const noWorkspace = await request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ type: TYPE, title: 't', reason: 'r', target: { iam_user: 'x' } });
    expect(noWorkspace.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'workspace_id' }] });
    expect((await create(alice, { iam_user: 'x' }, { secret_id: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })).body.error.details[0].field).toBe('secret_id');
  });

  it('policies match the type and see the target; approved → a job of the type for the capability, with {target, settings} at claim → completed', async () => {
    const policy = await request(t.http)
      .post('/api/v1/policies')
      .set(as())
      .send({ name: 'ci bot rotations are routine', priority: 10, effect: 'auto_approve', match: { request_types: [TYPE] }, condition: 'target.iam_user == "ci-bot" && request.target.iam_user == "ci-bot"' });
    expect(policy.status).toBe(201);
    const auto = await create(alice, { iam_user: 'ci-bot' });
    expect(auto.status).toBe(201);
    expect(auto.body).toMatchObject({ status: 'executing', target: { iam_user: 'ci-bot' }, policy_decision: { effect: 'auto_approve', policy_id: policy.body.id } });
    const autoJob = await claim();
    await complete(autoJob, { status: 'succeeded', result: { new_access_key_id: 'AKIACIBOT' } }).expect(204);

    const pending = await create(alice, { iam_user: 'deploy-bot' });
    expect(pending.body).toMatchObject({ status: 'pending_approval', workspace_id: workspace, environment_id: prod, secret_id: null, target: { iam_user: 'deploy-bot' } });
    expect(pending.body.policy_decision.effect).toBe('require_approval');
    const executing = await request(t.http).post(`/api/v1/requests/${pending.body.id}/approve`).set(auth(bob.token)).send({});
    expect(executing.body.status).toBe('executing');

    const job = await claim();
    expect(job).toMatchObject({ type: TYPE, request_id: pending.body.id, payload: { target: { iam_user: 'deploy-bot' }, settings: { region: 'eu-west-1', secret_access_key: SECRET } } });
    expect(job.payload.rollback).toBeUndefined();
    const stored = await request(t.http).get(`/api/v1/jobs/${job.id}`).set(as());
    expect(stored.body).toMatchObject({ type: TYPE, capability: 'aws-iam', payload: { target: { iam_user: 'deploy-bot' } } });
    expect(stored.body.payload.settings).toBeUndefined();
    await complete(job, { status: 'succeeded', result: { new_access_key_id: 'AKIANEW', previous_access_key_id: 'AKIAOLD' } }).expect(204);
    const done = await get(pending.body.id);
    expect(done.body.status).toBe('completed');
    expect(done.body.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['request.created', 'request.approved', 'request.execution_started', 'request.completed']));
  });

  it('rollback: requester, reason required → rolling_back → a job of the same type with the target and the original result → rolled_back; again 409', async () => {
    const req = await approved({ iam_user: 'release-bot' });
    const job = await claim();
    await complete(job, { status: 'succeeded', result: { new_access_key_id: 'AKIAREL2', previous_access_key_id: 'AKIAREL1' } }).expect(204);
    expect((await request(t.http).post(`/api/v1/requests/${req.id}/rollback`).set(auth(alice.token)).send({})).status).toBe(400);
    expect((await request(t.http).post(`/api/v1/requests/${req.id}/rollback`).set(auth(bob.token)).send({ reason: 'not mine' })).status).toBe(404);
    const started = await request(t.http).post(`/api/v1/requests/${req.id}/rollback`).set(auth(alice.token)).set('Idempotency-Key', 'rollback-release-bot').send({ reason: 'the new key broke the release pipeline' });
    expect(started.status).toBe(200);
    expect(started.body.status).toBe('rolling_back');
    const replay = await request(t.http).post(`/api/v1/requests/${req.id}/rollback`).set(auth(alice.token)).set('Idempotency-Key', 'rollback-release-bot').send({ reason: 'the new key broke the release pipeline' });
    expect(replay.headers['x-idempotency-replayed']).toBe('true');
    expect(replay.body.job_id).toBe(started.body.job_id);

    const undo = await claim();
    expect(undo).toMatchObject({
      id: started.body.job_id,
      type: TYPE,
      request_id: req.id,
      payload: { target: { iam_user: 'release-bot' }, settings: { region: 'eu-west-1', secret_access_key: SECRET }, rollback: true, original_result: { new_access_key_id: 'AKIAREL2', previous_access_key_id: 'AKIAREL1' } },
    });
    await complete(undo, { status: 'succeeded', result: { restored_access_key_id: 'AKIAREL1' } }).expect(204);
    const rolled = await get(req.id);
    expect(rolled.body.status).toBe('rolled_back');
    expect(rolled.body.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['request.completed', 'request.rollback_started', 'request.rolled_back']));
    // It reads like a change request: what the type does, its plugin, the target, and both jobs with their results.
    expect(rolled.body).toMatchObject({
      type_description: 'Rotate an IAM user’s access key',
      plugin: { id: pluginId, manifest_id: 'aws-iam', enabled: true },
      rollback_supported: true,
      target: { iam_user: 'release-bot' },
      job_id: undo.id,
      jobs: [
        { id: job.id, type: TYPE, purpose: 'execute', status: 'succeeded', attempt: 1, agent_id: agent.id, result: { new_access_key_id: 'AKIAREL2', previous_access_key_id: 'AKIAREL1' }, error: null },
        { id: undo.id, type: TYPE, purpose: 'rollback', status: 'succeeded', attempt: 1, result: { restored_access_key_id: 'AKIAREL1' } },
      ],
    });
    const again = await request(t.http).post(`/api/v1/requests/${req.id}/rollback`).set(auth(alice.token)).send({ reason: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_STATE_TRANSITION');
    const c = await t.db.client();
    const jobs = await c.query(`SELECT count(*)::int AS n FROM jobs WHERE owner_id = $1`, [req.id]);
    await c.end();
    expect(jobs.rows[0].n).toBe(2);
  });

  it('a failing job → failed with its message; a failing rollback → failed with the agent’s error; types without rollback → 409 saying so', async () => {
    const req = await approved({ iam_user: 'legacy-bot' });
    const job = await claim();
    await complete(job, { status: 'failed', error: 'AccessDenied: iam:CreateAccessKey not allowed for legacy-bot' }).expect(204);
    const failed = await get(req.id);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.jobs).toEqual([expect.objectContaining({ id: job.id, purpose: 'execute', status: 'failed', error: 'AccessDenied: iam:CreateAccessKey not allowed for legacy-bot' })]);
    expect((await request(t.http).get(`/api/v1/jobs/${job.id}`).set(as())).body.error).toBe('AccessDenied: iam:CreateAccessKey not allowed for legacy-bot');
    const events = await request(t.http).get(`/api/v1/audit-events?action=request.failed&resource_id=${req.id}`).set(as());
    expect(events.body.data[0].payload.error).toBe('AccessDenied: iam:CreateAccessKey not allowed for legacy-bot');

    // A failed change can be rolled back too; the rollback fails here and the request stays failed, with the new error.
    const rb = await request(t.http).post(`/api/v1/requests/${req.id}/rollback`).set(as()).send({ reason: 'clean up the half-made key' });
    expect(rb.body.status).toBe('rolling_back');
    const undo = await claim();
    expect(undo.payload).toMatchObject({ rollback: true, original_result: null });
    await complete(undo, { status: 'failed', error: 'NoSuchEntity: access key AKIA? not found' }).expect(204);
    const afterRollback = await get(req.id);
    expect(afterRollback.body.status).toBe('failed');
    expect(afterRollback.body.jobs.map((j: { purpose: string; error: string }) => [j.purpose, j.error])).toEqual([
      ['execute', 'AccessDenied: iam:CreateAccessKey not allowed for legacy-bot'],
      ['rollback', 'NoSuchEntity: access key AKIA? not found'],
    ]);
    const rbEvents = await request(t.http).get(`/api/v1/audit-events?action=request.rollback_failed&resource_id=${req.id}`).set(as());
    expect(rbEvents.body.data[0].payload.error).toBe('NoSuchEntity: access key AKIA? not found');

    // secret.* types declare no rollback.
    const c = await t.db.client();
    await c.query(
      `INSERT INTO requests (id, tenant_id, type, title, reason, status, requester_id, workspace_id) VALUES ('req_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', $1, 'secret.rotate', 't', 'r', 'completed', $2, $3)`,
      [tenantId, owner.userId, workspace],
    );
    await c.end();
    const builtIn = await get('req_01JD3Z6Q8Y4K2M9V7T5R3P1N0B');
    expect(builtIn.body).toMatchObject({ type_description: 'Have the agent generate and write a new value.', plugin: null, rollback_supported: false, jobs: [] });
    const none = await request(t.http).post('/api/v1/requests/req_01JD3Z6Q8Y4K2M9V7T5R3P1N0B/rollback').set(as()).send({ reason: 'undo' });
    expect(none.status).toBe(409);
    expect(none.body.error.message).toBe('secret.rotate has no rollback: its request type does not declare one.');
  });

  it('one eligibility rule: a stage member without request.approve neither lists, reads nor sees in the inbox the request', async () => {
    const memberRole = await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'iam-reviewers', permissions: ['workspace.read'] });
    const wf = await request(t.http).post('/api/v1/workflows').set(as()).send({ name: 'iam-review', stages: [{ name: 'review', required_approvals: 1, approver_role_ids: [memberRole.body.id] }] });
    await request(t.http)
      .post('/api/v1/policies')
      .set(as())
      .send({ name: 'reviewed rotations', priority: 5, effect: 'require_approval', workflow_id: wf.body.id, match: { request_types: [TYPE] }, condition: 'target.iam_user == "reviewed-bot"' })
      .expect(201);
    const carol = await createMember(t, owner, 'carol@changes.example');
    await request(t.http).post('/api/v1/user-roles').set(as()).send({ user_id: carol.userId, role_id: memberRole.body.id, scope_type: 'tenant', scope_id: tenantId }).expect(201);
    const pending = await create(alice, { iam_user: 'reviewed-bot' });
    expect(pending.body).toMatchObject({ status: 'pending_approval', workflow: { id: wf.body.id } });

    // Named in the stage by role, but without request.approve: not eligible, so the request is not hers to see.
    const listed = await request(t.http).get('/api/v1/requests').set(auth(carol.token));
    expect(listed.body.data.map((r: { id: string }) => r.id)).not.toContain(pending.body.id);
    expect((await request(t.http).get(`/api/v1/requests/${pending.body.id}`).set(auth(carol.token))).status).toBe(404);
    expect((await request(t.http).get('/api/v1/approvals').set(auth(carol.token))).body.data).toEqual([]);

    // With request.approve she is eligible: listed, readable, in her inbox.
    await assign(t, owner, carol.userId, 'approver', 'workspace', workspace);
    expect((await request(t.http).get('/api/v1/requests').set(auth(carol.token))).body.data.map((r: { id: string }) => r.id)).toContain(pending.body.id);
    expect((await request(t.http).get(`/api/v1/requests/${pending.body.id}`).set(auth(carol.token))).status).toBe(200);
    expect((await request(t.http).get('/api/v1/approvals').set(auth(carol.token))).body.data.map((r: { id: string }) => r.id)).toEqual([pending.body.id]);
    expect((await request(t.http).post(`/api/v1/requests/${pending.body.id}/cancel`).set(auth(alice.token)).send({})).body.status).toBe('cancelled');
  });

  it('uninstall while a request executes → 409 IN_USE; disable → type refused (422) and permission gone, in-flight finish; re-enable → back', async () => {
    const inFlight = await approved({ iam_user: 'batch-bot' });
    const busy = await request(t.http).delete(`/api/v1/plugins/${pluginId}`).set(as());
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('IN_USE');

    const pending = await create(alice, { iam_user: 'night-bot' });
    expect(pending.body.status).toBe('pending_approval');
    expect((await request(t.http).patch(`/api/v1/plugins/${pluginId}`).set(as()).send({ enabled: false })).body.enabled).toBe(false);

    const refused = await create(alice, { iam_user: 'deploy-bot' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_TARGET', details: [{ field: 'type', issue: 'plugin aws-iam is disabled' }] });
    const catalog = await request(t.http).get('/api/v1/permissions').set(auth(alice.token));
    expect(catalog.body.map((p: { key: string }) => p.key)).not.toContain('aws.iam.rotate');
    expect(JSON.stringify((await request(t.http).get('/api/v1/auth/me').set(auth(alice.token))).body.permissions)).not.toContain('aws.iam.rotate');
    expect((await request(t.http).post('/api/v1/roles').set(as()).send({ name: 'late', permissions: ['aws.iam.rotate'] })).status).toBe(400);

    // In flight: the executing one completes, the pending one can still be approved and runs.
    const job = await claim();
    expect(job.request_id).toBe(inFlight.id);
    expect(job.payload.settings).toMatchObject({ secret_access_key: SECRET });
    await complete(job, { status: 'succeeded', result: {} }).expect(204);
    expect((await get(inFlight.id)).body.status).toBe('completed');
    expect((await request(t.http).post(`/api/v1/requests/${pending.body.id}/approve`).set(auth(bob.token)).send({})).body.status).toBe('executing');
    await complete(await claim(), { status: 'succeeded' }).expect(204);

    await request(t.http).patch(`/api/v1/plugins/${pluginId}`).set(as()).send({ enabled: true }).expect(200);
    expect((await request(t.http).get('/api/v1/permissions').set(auth(alice.token))).body.map((p: { key: string }) => p.key)).toContain('aws.iam.rotate');
    const back = await create(alice, { iam_user: 'deploy-bot' });
    expect(back.body.status).toBe('pending_approval');
    expect((await request(t.http).post(`/api/v1/requests/${back.body.id}/cancel`).set(auth(alice.token)).send({})).body.status).toBe('cancelled');
    expect((await request(t.http).delete(`/api/v1/plugins/${pluginId}`).set(as())).status).toBe(204);
    expect((await create(alice, { iam_user: 'deploy-bot' })).status).toBe(400);
  });

  it('the write-only secret never reached a response body, a log line or the audit log', async () => {
    const c = await t.db.client();
    let dump = '';
    for (const table of ['audit_events', 'requests', 'jobs', 'plugins', 'idempotency_keys']) dump += JSON.stringify((await c.query(`SELECT * FROM ${table}`)).rows);
    await c.end();
    expect(dump).not.toContain(SECRET);
    expect(t.logs.text).not.toContain(SECRET);
  });
});
