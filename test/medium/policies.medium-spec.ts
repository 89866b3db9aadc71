import { Principal } from '../../src/common/auth/principal';
import { PoliciesService } from '../../src/modules/policies/policies.service';
import { RequestsService } from '../../src/modules/requests/requests.service';
import { WorkflowsService } from '../../src/modules/workflows/workflows.service';
import { createMediumApp, expectAppError, MediumApp } from '../helpers/medium-app';
import { auditOf, Member, MediumFixtures } from '../helpers/medium-fixtures';

type PolicyBody = Parameters<PoliciesService['create']>[1];
type EvaluateBody = Parameters<PoliciesService['evaluate']>[1];

/**
 * Policies against a real database: which policy wins (match, priority, effect on ties, disabled), CEL conditions over
 * the request, its requester and its secret, the dry run (writes nothing), and fail-closed evaluation. Another tenant's
 * policies are never there (404) and never decide this tenant's requests.
 */
describe('policies (medium)', () => {
  let m: MediumApp;
  let f: MediumFixtures;
  let policies: PoliciesService;
  let owner: Member;
  let tenantId: string;
  let workspace: string;
  let prod: string;
  let dev: string;
  let secretProd: string; // tier: gold
  let secretDev: string; // tier: bronze
  let workflow: string;
  let analyst: Member; // auditor (policy.read) + requester, tenant-wide
  let wsAuditor: Member; // auditor at the workspace only: policies are tenant-level
  let requester: Member; // no policy.read
  let mallory: Member; // admin of another tenant
  let otherOwner: Member;
  let otherWorkspace: string;

  const as = <T>(who: Member | Principal, fn: (p: Principal) => Promise<T>) => {
    const p = 'principal' in who ? who.principal : who;
    return m.as(p, () => fn(p));
  };
  const create = (body: PolicyBody, by: Member = owner) => as(by, (p) => policies.create(p, body));
  const evaluate = (body: EvaluateBody, by: Member = owner) => as(by, (p) => policies.evaluate(p, body));
  const counts = async () =>
    (
      await m.sql.query(
        `SELECT (SELECT count(*)::int FROM policies WHERE tenant_id = $1) AS policies, (SELECT count(*)::int FROM requests WHERE tenant_id = $1) AS requests,
                (SELECT count(*)::int FROM audit_events WHERE tenant_id = $1) AS events`,
        [tenantId],
      )
    ).rows[0] as { policies: number; requests: number; events: number };

  beforeAll(async () => {
    m = await createMediumApp();
    f = new MediumFixtures(m);
    policies = m.get(PoliciesService);
    ({ owner, tenantId } = await f.tenant('acme'));
    workspace = await f.workspace(owner, 'pay');
    prod = await f.environment(owner, workspace, 'prod', true);
    dev = await f.environment(owner, workspace, 'dev');
    const prodAgent = await f.agent(owner, 'prod-agent', { workspaceId: workspace, environmentId: prod });
    const devAgent = await f.agent(owner, 'dev-agent', { workspaceId: workspace, environmentId: dev });
    secretProd = await f.secret(prodAgent, owner, 'prod/db', { tier: 'gold' });
    secretDev = await f.secret(devAgent, owner, 'dev/db', { tier: 'bronze' });
    analyst = await f.member(owner, 'analyst@acme.example', [['auditor', 'tenant', tenantId], ['requester', 'tenant', tenantId]]);
    wsAuditor = await f.member(owner, 'ws-auditor@acme.example', [['auditor', 'workspace', workspace]]);
    requester = await f.member(owner, 'requester@acme.example', [['requester', 'tenant', tenantId]]);
    const approverRole = await f.roleId(owner, 'approver');
    workflow = (await as(owner, (p) => m.get(WorkflowsService).create(p, { name: 'one approval', stages: [{ name: 'ok', required_approvals: 1, approver_role_ids: [approverRole] }] }))).id;
    const other = await f.tenant('other');
    otherOwner = other.owner;
    otherWorkspace = await f.workspace(otherOwner, 'pay');
    mallory = await f.member(otherOwner, 'mallory@other.example', [['admin', 'tenant', other.tenantId]]);
  });
  afterAll(() => m?.close());

  // Each test starts from a tenant without policies.
  afterEach(async () => {
    for (const by of [owner, otherOwner]) {
      const page = await as(by, (p) => policies.list(p, { limit: 200 }));
      for (const policy of page.data) await as(by, (p) => policies.remove(p, policy.id));
    }
  });

  it('refuses an invalid definition with the field at fault, and stores nothing', async () => {
    const before = await counts();
    const field = async (body: PolicyBody) => (await expectAppError(create(body), 400, 'VALIDATION_FAILED')).details;
    expect(await field({ name: 'x', priority: 1, effect: 'require_approval' })).toEqual([{ field: 'workflow_id', issue: expect.any(String) }]);
    expect(await field({ name: 'x', priority: 1, effect: 'deny', workflow_id: workflow })).toEqual([{ field: 'workflow_id', issue: expect.any(String) }]);
    expect(await field({ name: 'x', priority: 1, effect: 'deny', condition: 'request.type ==' })).toEqual([{ field: 'condition', issue: expect.any(String) }]);
    expect(await field({ name: 'x', priority: 1, effect: 'deny', condition: 'request.type' })).toEqual([{ field: 'condition', issue: expect.stringMatching(/bool/) }]);
    expect(await field({ name: 'x', priority: 1, effect: 'deny', condition: 'request.nope == 1' })).toEqual([{ field: 'condition', issue: expect.any(String) }]);
    await expectAppError(create({ name: 'x', priority: 1, effect: 'deny', match: { workspace_ids: ['wsp_01M8TP84JEJD9KQSKFYEMKQF8J'] } }), 404, 'NOT_FOUND');
    expect(await counts()).toEqual(before);
  });

  it('with no policy the tenant default applies: require_approval with the default workflow', async () => {
    const decision = await evaluate({ type: 'secret.read', secret_id: secretProd });
    expect(decision).toMatchObject({ effect: 'require_approval', policy_id: null, explanation: [] });
    expect(decision.workflow_id).toMatch(/^wfl_/);
    expect(decision.workflow_id).not.toBe(workflow);
  });

  it('the highest matching priority wins; on a tie deny beats require_approval beats auto_approve; disabled policies never match', async () => {
    const reads = await create({ name: 'reads are fine', priority: 10, effect: 'auto_approve', match: { request_types: ['secret.read'] } });
    expect(await evaluate({ type: 'secret.read', secret_id: secretProd })).toMatchObject({ effect: 'auto_approve', policy_id: reads.id, workflow_id: null });
    expect(await evaluate({ type: 'secret.rotate', secret_id: secretProd })).toMatchObject({ effect: 'require_approval', policy_id: null });

    const prodDeny = await create({ name: 'not in prod', priority: 20, effect: 'deny', match: { environment_ids: [prod] } });
    const inProd = await evaluate({ type: 'secret.read', secret_id: secretProd });
    expect(inProd).toMatchObject({ effect: 'deny', policy_id: prodDeny.id });
    expect(inProd.explanation).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ policy_id: prodDeny.id, matched: true, reason: 'selected: highest priority' }),
        expect.objectContaining({ policy_id: reads.id, matched: true, reason: `matched but outranked by ${prodDeny.id}` }),
      ]),
    );
    const inDev = await evaluate({ type: 'secret.read', secret_id: secretDev });
    expect(inDev).toMatchObject({ effect: 'auto_approve', policy_id: reads.id });
    expect(inDev.explanation).toContainEqual(expect.objectContaining({ policy_id: prodDeny.id, matched: false, reason: `environment_ids does not include ${dev}` }));

    // Same priority as the deny, matched by label: deny still wins the tie.
    const gold = await create({ name: 'gold needs approval', priority: 20, effect: 'require_approval', workflow_id: workflow, match: { secret_labels: { tier: 'gold' } } });
    const tie = await evaluate({ type: 'secret.read', secret_id: secretProd });
    expect(tie).toMatchObject({ effect: 'deny', policy_id: prodDeny.id });
    expect(tie.explanation).toContainEqual(expect.objectContaining({ policy_id: prodDeny.id, reason: 'selected: highest priority; on the tie deny beats require_approval' }));

    // Disabled (replaced with enabled: false): the label policy decides, with its own workflow.
    await as(owner, (p) => policies.replace(p, prodDeny.id, { name: 'not in prod', priority: 20, effect: 'deny', match: { environment_ids: [prod] }, enabled: false }));
    const disabled = await evaluate({ type: 'secret.read', secret_id: secretProd });
    expect(disabled).toMatchObject({ effect: 'require_approval', policy_id: gold.id, workflow_id: workflow });
    // Only enabled policies are considered at all: the disabled one is not in the explanation.
    expect(disabled.explanation.map((e) => e.policy_id).sort()).toEqual([gold.id, reads.id].sort());
  });

  it('the dry run writes nothing: no request, no policy change, no audit event', async () => {
    await create({ name: 'deny rotations', priority: 5, effect: 'deny', match: { request_types: ['secret.rotate'] } });
    const before = await counts();
    for (let i = 0; i < 3; i++) expect((await evaluate({ type: 'secret.rotate', secret_id: secretProd }, analyst)).effect).toBe('deny');
    expect(await counts()).toEqual(before);
  });

  it('CEL conditions read the request, its requester and its secret', async () => {
    const protectedEnv = await create({ name: 'protected envs: owners only', priority: 30, effect: 'deny', condition: 'request.environment_protected && !("owner" in requester.roles)' });
    const goldAuto = await create({ name: 'gold auto', priority: 10, effect: 'auto_approve', condition: 'secret.labels["tier"] == "gold" && request.access_duration_seconds <= 3600' });

    expect(await evaluate({ type: 'secret.read', secret_id: secretProd }, analyst)).toMatchObject({ effect: 'deny', policy_id: protectedEnv.id });
    // The owner holds `owner`: the deny's condition is false for them, and the gold label auto-approves a short read.
    const ownerShort = await evaluate({ type: 'secret.read', secret_id: secretProd, access_duration_seconds: 600 }, owner);
    expect(ownerShort).toMatchObject({ effect: 'auto_approve', policy_id: goldAuto.id });
    expect(ownerShort.explanation).toContainEqual(expect.objectContaining({ policy_id: protectedEnv.id, matched: false, reason: 'condition is false' }));
    expect(await evaluate({ type: 'secret.read', secret_id: secretProd, access_duration_seconds: 7200 }, owner)).toMatchObject({ effect: 'require_approval', policy_id: null });
    // dev is not protected, and its secret is bronze: neither condition holds.
    expect(await evaluate({ type: 'secret.read', secret_id: secretDev }, analyst)).toMatchObject({ effect: 'require_approval', policy_id: null });
  });

  it('fails closed: a condition that errors counts as matched for deny and require_approval, not for auto_approve', async () => {
    // `owner` is not a label of either secret: reading it is an evaluation error, not false.
    const deny = await create({ name: 'dba only', priority: 10, effect: 'deny', match: { request_types: ['secret.rotate'] }, condition: 'secret.labels["owner"] == "dba"' });
    const denied = await evaluate({ type: 'secret.rotate', secret_id: secretProd });
    expect(denied).toMatchObject({ effect: 'deny', policy_id: deny.id });
    expect(denied.explanation).toContainEqual(expect.objectContaining({ policy_id: deny.id, matched: true, reason: expect.stringMatching(/condition error: .* → treated as matched \(fail closed\)$/) }));

    await as(owner, (p) => policies.replace(p, deny.id, { name: 'auto for dba', priority: 10, effect: 'auto_approve', match: { request_types: ['secret.rotate'] }, condition: 'secret.labels["owner"] == "dba"' }));
    const notApproved = await evaluate({ type: 'secret.rotate', secret_id: secretProd });
    expect(notApproved).toMatchObject({ effect: 'require_approval', policy_id: null });
    expect(notApproved.explanation).toContainEqual(expect.objectContaining({ policy_id: deny.id, matched: false, reason: expect.stringMatching(/treated as not matched \(fail closed\)$/) }));
  });

  it('a stored condition that no longer compiles fails closed too (and a deny stops the request at submit)', async () => {
    const deny = await create({ name: 'legacy', priority: 10, effect: 'deny', match: { request_types: ['secret.rotate'] }, condition: 'request.environment_protected' });
    // A condition saved before conditions were type-checked: no service stores one today, so the row is edited.
    await m.sql.query(`UPDATE policies SET condition = 'request.environment_protected +' WHERE id = $1`, [deny.id]);
    const dry = await evaluate({ type: 'secret.rotate', secret_id: secretDev });
    expect(dry).toMatchObject({ effect: 'deny', policy_id: deny.id });

    const created = await as(requester, (p) => m.get(RequestsService).create(p, { type: 'secret.rotate', title: 'rotate', reason: 'quarterly', secret_id: secretDev }));
    expect(created).toMatchObject({ status: 'rejected', policy_decision: { effect: 'deny', policy_id: deny.id } });
    const rejected = (await auditOf(m, created.id)).find((e) => e.action === 'request.rejected');
    expect(rejected).toMatchObject({ outcome: 'failure', payload: { by: 'policy', policy_id: deny.id } });
  });

  it('the decision applies at submit: auto_approve skips the workflow and starts the job', async () => {
    const auto = await create({ name: 'dev rotations', priority: 10, effect: 'auto_approve', match: { request_types: ['secret.rotate'], environment_ids: [dev] } });
    const created = await as(requester, (p) => m.get(RequestsService).create(p, { type: 'secret.rotate', title: 'rotate', reason: 'quarterly', secret_id: secretDev }));
    expect(created).toMatchObject({ status: 'executing', policy_decision: { effect: 'auto_approve', policy_id: auto.id } });
    expect(created.job_id).toMatch(/^job_/);
    expect((await auditOf(m, created.id)).map((e) => e.action)).toEqual(['request.created', 'request.submitted', 'request.approved', 'request.execution_started']);
  });

  it('create, replace and remove are audited with what changed', async () => {
    const created = await create({ name: 'v1', priority: 1, effect: 'deny', match: { request_types: ['secret.patch'] } });
    await as(owner, (p) => policies.replace(p, created.id, { name: 'v2', priority: 2, effect: 'deny', match: { request_types: ['secret.patch'] } }));
    await as(owner, (p) => policies.remove(p, created.id));
    const events = await auditOf(m, created.id);
    expect(events.map((e) => e.action)).toEqual(['policy.created', 'policy.updated', 'policy.deleted']);
    expect(events.every((e) => e.actor_id === owner.userId && e.tenant_id === tenantId)).toBe(true);
    expect(events[1].payload).toMatchObject({ before: { name: 'v1', priority: 1 }, after: { name: 'v2', priority: 2 } });
    await expectAppError(as(owner, (p) => policies.get(p, created.id)), 404, 'NOT_FOUND');
  });

  it('policies are tenant-level: reading needs policy.read tenant-wide, writing policy.edit (403 in the tenant)', async () => {
    const policy = await create({ name: 'p', priority: 1, effect: 'deny', match: { request_types: ['secret.patch'] } });
    expect((await as(analyst, (p) => policies.get(p, policy.id))).id).toBe(policy.id);
    await expectAppError(as(wsAuditor, (p) => policies.list(p, { limit: 10 })), 403, 'PERMISSION_DENIED');
    await expectAppError(as(requester, (p) => policies.get(p, policy.id)), 403, 'PERMISSION_DENIED');
    await expectAppError(evaluate({ type: 'secret.read', secret_id: secretProd }, requester), 403, 'PERMISSION_DENIED');
    await expectAppError(create({ name: 'mine', priority: 99, effect: 'auto_approve' }, analyst), 403, 'PERMISSION_DENIED');
    await expectAppError(as(analyst, (p) => policies.remove(p, policy.id)), 403, 'PERMISSION_DENIED');
    expect((await as(owner, (p) => policies.get(p, policy.id))).name).toBe('p');
  });

  it('cannot read or change another tenant’s policy (404), nor match or dry-run its objects; its policies never decide here', async () => {
    const denyAll = await create({ name: 'deny everything', priority: 1000, effect: 'deny' });
    await expectAppError(as(mallory, (p) => policies.get(p, denyAll.id)), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => policies.replace(p, denyAll.id, { name: 'pwned', priority: -1000, effect: 'auto_approve' })), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => policies.remove(p, denyAll.id)), 404, 'NOT_FOUND');
    expect((await as(mallory, (p) => policies.list(p, { limit: 200 }))).data).toEqual([]);
    // Another tenant's workflow, workspace, environment or secret is unknown here.
    await expectAppError(create({ name: 'x', priority: 1, effect: 'require_approval', workflow_id: workflow }, mallory), 404, 'NOT_FOUND');
    await expectAppError(create({ name: 'x', priority: 1, effect: 'deny', match: { environment_ids: [prod] } }, mallory), 404, 'NOT_FOUND');
    await expectAppError(evaluate({ type: 'secret.read', secret_id: secretProd }, mallory), 404, 'NOT_FOUND');
    await expectAppError(evaluate({ type: 'db.grant', workspace_id: workspace }, mallory), 404, 'NOT_FOUND');
    // This tenant's deny-everything does not reach the other tenant's requests.
    expect(await evaluate({ type: 'db.grant', workspace_id: otherWorkspace }, mallory)).toMatchObject({ effect: 'require_approval', policy_id: null, explanation: [] });
    expect((await as(owner, (p) => policies.get(p, denyAll.id))).name).toBe('deny everything');
  });
});
