import request from 'supertest';
import { auth, createMember, roleId, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

describe('workflows and policies (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let as: Record<string, string>;
  let approverRole: string;
  let member: Session;
  let workspace: string;
  let prod: string;
  let dev: string;
  let prodSecret: string;
  let devSecret: string;

  const post = (path: string, body: object) => request(t.http).post(path).set(as).send(body);
  const put = (path: string, body: object) => request(t.http).put(path).set(as).send(body);
  const get = (path: string) => request(t.http).get(path).set(as);
  const del = (path: string) => request(t.http).delete(path).set(as);
  const evaluate = (body: object) => post('/api/v1/policies/evaluate', body);
  const stage = (over: object = {}) => ({ name: 'lead', required_approvals: 1, approver_role_ids: [approverRole], ...over });

  /** An agent bound to an environment that reports one secret; returns the secret's id. */
  const inventorySecret = async (environmentId: string, cluster: string): Promise<string> => {
    const minted = await post('/api/v1/agents', { name: `agent-${cluster}`, workspace_id: workspace, environment_id: environmentId, cluster_name: cluster, capabilities: ['file'] });
    expect(minted.status).toBe(201);
    const bulk = await request(t.http)
      .post(`/api/v1/agents/${minted.body.agent.id}/secrets/bulk`)
      .set('X-Agent-Secret', minted.body.agent_secret)
      .send({ secrets: [{ cluster_name: cluster, provider: 'file', ref: 'db/password', labels: { team: 'payments' } }] });
    expect(bulk.status).toBe(200);
    const listed = await get(`/api/v1/secrets?cluster_name=${cluster}`);
    expect(listed.body.data).toHaveLength(1);
    return listed.body.data[0].id as string;
  };

  beforeAll(async () => {
    t = await createTestApp();
    owner = await setupPlatform(t);
    as = auth(owner.token);
    approverRole = await roleId(t, owner, 'approver');
    member = await createMember(t, owner, 'lead@example.com');
    workspace = (await post('/api/v1/workspaces', { slug: 'payments', display_name: 'Payments' })).body.id;
    prod = (await post(`/api/v1/workspaces/${workspace}/environments`, { name: 'prod', protected: true })).body.id;
    dev = (await post(`/api/v1/workspaces/${workspace}/environments`, { name: 'dev' })).body.id;
    prodSecret = await inventorySecret(prod, 'prod-cluster');
    devSecret = await inventorySecret(dev, 'dev-cluster');
  });
  afterAll(() => t.close());

  describe('workflows', () => {
    it('creates, reads, lists, replaces (version + 1) and deletes a workflow', async () => {
      const created = await post('/api/v1/workflows', { name: 'two-step', description: 'lead then owner', stages: [stage(), stage({ name: 'owner', approver_role_ids: [], approver_user_ids: [member.userId] })] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^wfl_/),
        name: 'two-step',
        version: 1,
        built_in: false,
        auto_execute: true,
        approval_timeout_seconds: null,
        stages: [
          { name: 'lead', required_approvals: 1, approver_role_ids: [approverRole], approver_user_ids: [] },
          { name: 'owner', required_approvals: 1, approver_role_ids: [], approver_user_ids: [member.userId] },
        ],
      });
      const id = created.body.id as string;
      expect((await get(`/api/v1/workflows/${id}`)).body).toEqual(created.body);
      expect((await get('/api/v1/workflows')).body.data.map((w: { id: string }) => w.id)).toContain(id);

      const replaced = await put(`/api/v1/workflows/${id}`, { name: 'one-step', stages: [stage({ required_approvals: 2 })], approval_timeout_seconds: 3600, auto_execute: false });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ id, name: 'one-step', version: 2, description: '', approval_timeout_seconds: 3600, auto_execute: false, stages: [{ required_approvals: 2 }] });
      expect((await put(`/api/v1/workflows/${id}`, { name: 'one-step', stages: [stage()] })).body.version).toBe(3);

      expect((await del(`/api/v1/workflows/${id}`)).status).toBe(204);
      expect((await get(`/api/v1/workflows/${id}`)).status).toBe(404);
      const events = await get(`/api/v1/audit-events?resource_id=${id}`);
      expect(events.body.data.map((e: { action: string }) => e.action).sort()).toEqual(['workflow.created', 'workflow.deleted', 'workflow.updated', 'workflow.updated']);
    });

    it('validates stages: 1–10 approvals, 1–10 stages, at least one approver, timeout bounds', async () => {
      const bad = async (body: object, field: string) => {
        const res = await post('/api/v1/workflows', { name: 'bad', ...body });
        expect({ status: res.status, code: res.body.error.code, fields: res.body.error.details.map((d: { field: string }) => d.field) }).toEqual({
          status: 400,
          code: 'VALIDATION_FAILED',
          fields: expect.arrayContaining([field]),
        });
      };
      await bad({ stages: [stage({ required_approvals: 11 })] }, 'stages[0].required_approvals');
      await bad({ stages: [stage({ required_approvals: 0 })] }, 'stages[0].required_approvals');
      await bad({ stages: [] }, 'stages');
      await bad({ stages: Array.from({ length: 11 }, () => stage()) }, 'stages');
      await bad({ stages: [stage(), stage({ approver_role_ids: [] })] }, 'stages[1].approver_role_ids');
      await bad({ stages: [stage()], approval_timeout_seconds: 59 }, 'approval_timeout_seconds');
      await bad({ stages: [stage()], approval_timeout_seconds: 30 * 24 * 3600 + 1 }, 'approval_timeout_seconds');
      await bad({ stages: [stage()], version: 7 }, 'version');
    });

    it('404 naming approver roles and users that are not in the tenant', async () => {
      const role = await post('/api/v1/workflows', { name: 'x', stages: [stage({ approver_role_ids: [approverRole, 'rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] })] });
      expect(role.status).toBe(404);
      expect(role.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('rol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B') });
      const user = await post('/api/v1/workflows', { name: 'x', stages: [stage({ approver_user_ids: ['usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B'] })] });
      expect(user.status).toBe(404);
      expect(user.body.error.message).toContain('usr_01JD3Z6Q8Y4K2M9V7T5R3P1N0B');
    });

    it('lists the built-in default: one approval by approver, admin or owner; it cannot be changed or deleted', async () => {
      const all = (await get('/api/v1/workflows?limit=200')).body.data as { id: string; built_in: boolean; stages: { approver_role_ids: string[]; required_approvals: number }[]; auto_execute: boolean; approval_timeout_seconds: number | null }[];
      const defaults = all.filter((w) => w.built_in);
      expect(defaults).toHaveLength(1);
      const expectedRoles = [await roleId(t, owner, 'approver'), await roleId(t, owner, 'admin'), await roleId(t, owner, 'owner')];
      expect(defaults[0]).toMatchObject({ auto_execute: true, approval_timeout_seconds: null });
      expect(defaults[0].stages).toHaveLength(1);
      expect(defaults[0].stages[0].required_approvals).toBe(1);
      expect([...defaults[0].stages[0].approver_role_ids].sort()).toEqual([...expectedRoles].sort());
      // Listing again does not create a second one.
      expect(((await get('/api/v1/workflows?limit=200')).body.data as { built_in: boolean }[]).filter((w) => w.built_in)).toHaveLength(1);

      const changed = await put(`/api/v1/workflows/${defaults[0].id}`, { name: 'mine', stages: [stage()] });
      expect([changed.status, changed.body.error.code]).toEqual([409, 'CONFLICT']);
      const deleted = await del(`/api/v1/workflows/${defaults[0].id}`);
      expect([deleted.status, deleted.body.error.code]).toEqual([409, 'CONFLICT']);
    });
  });

  describe('policies', () => {
    it('CRUD: create, get, list, replace, delete', async () => {
      const wf = (await post('/api/v1/workflows', { name: 'crud', stages: [stage()] })).body.id;
      const created = await post('/api/v1/policies', { name: 'prod rotations', priority: 10, effect: 'require_approval', workflow_id: wf, match: { request_types: ['crud.type'] }, condition: 'request.environment_protected' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^pol_/),
        priority: 10,
        effect: 'require_approval',
        workflow_id: wf,
        enabled: true,
        condition: 'request.environment_protected',
        match: { request_types: ['crud.type'], workspace_ids: [], environment_ids: [], secret_labels: {} },
      });
      const id = created.body.id as string;
      expect((await get(`/api/v1/policies/${id}`)).body).toEqual(created.body);
      expect((await get('/api/v1/policies')).body.data.map((p: { id: string }) => p.id)).toContain(id);
      const replaced = await put(`/api/v1/policies/${id}`, { name: 'deny crud', priority: -5, effect: 'deny', match: { workspace_ids: [workspace], secret_labels: { team: 'x' } }, enabled: false });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ name: 'deny crud', priority: -5, effect: 'deny', workflow_id: null, condition: null, enabled: false, match: { workspace_ids: [workspace], secret_labels: { team: 'x' } } });
      expect((await del(`/api/v1/policies/${id}`)).status).toBe(204);
      expect((await get(`/api/v1/policies/${id}`)).status).toBe(404);
      expect((await del(`/api/v1/workflows/${wf}`)).status).toBe(204);
    });

    it('400 for a condition that does not compile, naming `condition` with the compiler message', async () => {
      const res = await post('/api/v1/policies', { name: 'broken', priority: 1, effect: 'deny', condition: 'request.type ==' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details).toEqual([{ field: 'condition', issue: expect.stringMatching(/^<input>:1:\d+: /) }]);
      const unknown = await post('/api/v1/policies', { name: 'typo', priority: 1, effect: 'deny', condition: 'reqest.type == "secret.read"' });
      expect(unknown.body.error.details).toEqual([{ field: 'condition', issue: expect.stringContaining("'reqest'") }]);
      const tooLong = await post('/api/v1/policies', { name: 'long', priority: 1, effect: 'deny', condition: `true || ${'true || '.repeat(600)}true` });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.details[0].field).toBe('condition');
    });

    it('400 for workflow_id without require_approval and for require_approval without it; 404 for an unknown workflow', async () => {
      const missing = await post('/api/v1/policies', { name: 'p', priority: 1, effect: 'require_approval' });
      expect([missing.status, missing.body.error.details[0].field]).toEqual([400, 'workflow_id']);
      const extra = await post('/api/v1/policies', { name: 'p', priority: 1, effect: 'deny', workflow_id: 'wfl_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' });
      expect([extra.status, extra.body.error.details[0].field]).toEqual([400, 'workflow_id']);
      const unknown = await post('/api/v1/policies', { name: 'p', priority: 1, effect: 'require_approval', workflow_id: 'wfl_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' });
      expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
      const priority = await post('/api/v1/policies', { name: 'p', priority: 1001, effect: 'deny' });
      expect([priority.status, priority.body.error.details[0].field]).toEqual([400, 'priority']);
    });

    it('409 IN_USE when deleting a workflow a policy points at (enabled or disabled), 204 once the policy is gone', async () => {
      const wf = (await post('/api/v1/workflows', { name: 'used', stages: [stage()] })).body.id;
      const pol = (await post('/api/v1/policies', { name: 'uses it', priority: 1, effect: 'require_approval', workflow_id: wf, match: { request_types: ['in-use.type'] }, enabled: false })).body.id;
      const blocked = await del(`/api/v1/workflows/${wf}`);
      expect([blocked.status, blocked.body.error.code]).toEqual([409, 'IN_USE']);
      expect((await get(`/api/v1/workflows/${wf}`)).status).toBe(200);
      expect((await del(`/api/v1/policies/${pol}`)).status).toBe(204);
      expect((await del(`/api/v1/workflows/${wf}`)).status).toBe(204);
    });
  });

  describe('evaluate (dry run)', () => {
    let denyProtectedRotate: string;

    beforeAll(async () => {
      const res = await post('/api/v1/policies', { name: 'no rotations in protected envs', priority: 100, effect: 'deny', condition: 'request.environment_protected && request.type == "secret.rotate"' });
      expect(res.status).toBe(201);
      denyProtectedRotate = res.body.id;
    });

    it('deny on `request.environment_protected && request.type == "secret.rotate"` wins for a rotate in a protected environment, and says why', async () => {
      const res = await evaluate({ type: 'secret.rotate', secret_id: prodSecret, title: 'rotate', reason: 'quarterly', submit: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ effect: 'deny', policy_id: denyProtectedRotate, workflow_id: null });
      expect(res.body.explanation).toContainEqual({ policy_id: denyProtectedRotate, name: 'no rotations in protected envs', priority: 100, effect: 'deny', matched: true, reason: 'selected: highest priority' });
      // The same rotation in dev: the condition is false, and the explanation says so.
      const inDev = await evaluate({ type: 'secret.rotate', secret_id: devSecret });
      expect(inDev.body.effect).toBe('require_approval');
      expect(inDev.body.explanation.find((e: { policy_id: string }) => e.policy_id === denyProtectedRotate)).toMatchObject({ matched: false, reason: 'condition is false' });
    });

    it('an auto_approve for secret.read in the dev environment is selected', async () => {
      const auto = (await post('/api/v1/policies', { name: 'dev reads', priority: 10, effect: 'auto_approve', match: { request_types: ['secret.read'], environment_ids: [dev], secret_labels: { team: 'payments' } } })).body.id;
      const res = await evaluate({ type: 'secret.read', secret_id: devSecret });
      expect(res.body).toMatchObject({ effect: 'auto_approve', policy_id: auto, workflow_id: null });
      expect(res.body.explanation).toContainEqual(expect.objectContaining({ policy_id: auto, matched: true, reason: 'selected: highest priority' }));
      // In prod the environment does not match.
      const inProd = await evaluate({ type: 'secret.read', secret_id: prodSecret });
      expect(inProd.body.effect).toBe('require_approval');
      expect(inProd.body.explanation).toContainEqual(expect.objectContaining({ policy_id: auto, matched: false, reason: `environment_ids does not include ${prod}` }));
    });

    it('a higher-priority require_approval wins over a lower auto_approve', async () => {
      const wf = (await post('/api/v1/workflows', { name: 'payments leads', stages: [stage()] })).body.id;
      const low = (await post('/api/v1/policies', { name: 'auto', priority: 5, effect: 'auto_approve', match: { request_types: ['db.grant'] } })).body.id;
      const high = (await post('/api/v1/policies', { name: 'approve', priority: 50, effect: 'require_approval', workflow_id: wf, match: { request_types: ['db.grant'] } })).body.id;
      const res = await evaluate({ type: 'db.grant', workspace_id: workspace, environment_id: prod, target: { db: 'x' } });
      expect(res.body).toMatchObject({ effect: 'require_approval', policy_id: high, workflow_id: wf });
      expect(res.body.explanation).toContainEqual(expect.objectContaining({ policy_id: low, matched: true, reason: `matched but outranked by ${high}` }));
    });

    it('equal priority: deny beats require_approval beats auto_approve', async () => {
      const wf = (await post('/api/v1/workflows', { name: 'tie', stages: [stage()] })).body.id;
      const mk = async (effect: string) =>
        (await post('/api/v1/policies', { name: `tie ${effect}`, priority: 7, effect, ...(effect === 'require_approval' ? { workflow_id: wf } : {}), match: { request_types: ['tie.type'] } })).body.id as string;
      const auto = await mk('auto_approve');
      const approve = await mk('require_approval');
      const deny = await mk('deny');
      const body = { type: 'tie.type', workspace_id: workspace };
      expect((await evaluate(body)).body).toMatchObject({ effect: 'deny', policy_id: deny });
      await put(`/api/v1/policies/${deny}`, { name: 'tie deny', priority: 7, effect: 'deny', match: { request_types: ['tie.type'] }, enabled: false });
      expect((await evaluate(body)).body).toMatchObject({ effect: 'require_approval', policy_id: approve, workflow_id: wf });
      expect((await del(`/api/v1/policies/${approve}`)).status).toBe(204);
      expect((await evaluate(body)).body).toMatchObject({ effect: 'auto_approve', policy_id: auto });
    });

    it('no candidate → require_approval with the default workflow; a runtime condition error of a deny policy fails closed, never a 500', async () => {
      const erroring = (await post('/api/v1/policies', { name: 'labels', priority: 900, effect: 'deny', condition: 'secret.labels.team == "payments"', match: { request_types: ['nothing.matches'] } })).body.id;
      const defaultWorkflow = ((await get('/api/v1/workflows?limit=200')).body.data as { id: string; built_in: boolean }[]).find((w) => w.built_in)!.id;
      const none = await evaluate({ type: 'nothing.else', workspace_id: workspace });
      expect(none.status).toBe(200);
      expect(none.body).toMatchObject({ effect: 'require_approval', policy_id: null, workflow_id: defaultWorkflow });
      expect(none.body.explanation.every((e: { matched: boolean }) => !e.matched)).toBe(true);
      // Without a secret the labels are empty: `labels.team` is an evaluation error, and a deny that errors denies.
      const res = await evaluate({ type: 'nothing.matches', workspace_id: workspace });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ effect: 'deny', policy_id: erroring, workflow_id: null });
      expect(res.body.explanation).toContainEqual(
        expect.objectContaining({ policy_id: erroring, matched: true, reason: expect.stringMatching(/; condition error: .+ → treated as matched \(fail closed\)$/) }),
      );
    });

    it('validates the body: workspace_id without a secret, unknown fields, other tenants’ ids', async () => {
      const noScope = await evaluate({ type: 'x.y' });
      expect([noScope.status, noScope.body.error.details[0].field]).toEqual([400, 'workspace_id']);
      const unknown = await evaluate({ type: 'x.y', workspace_id: workspace, approver_id: 'usr_x' });
      expect(unknown.status).toBe(400);
      expect((await evaluate({ type: 'x.y', secret_id: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })).status).toBe(404);
      expect((await evaluate({ type: 'x.y', workspace_id: workspace, environment_id: 'env_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })).status).toBe(404);
    });
  });
});
