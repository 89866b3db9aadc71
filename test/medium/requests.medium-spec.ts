import { createCipheriv, randomBytes } from 'node:crypto';
import { Principal } from '../../src/common/auth/principal';
import { AgentsService } from '../../src/modules/agents/agents.service';
import { JobsService } from '../../src/modules/jobs/jobs.service';
import { PoliciesService } from '../../src/modules/policies/policies.service';
import { RequestExpirySweeper } from '../../src/modules/requests/request-expiry.sweeper';
import { RequestTransitionsService } from '../../src/modules/requests/request-transitions.service';
import { RequestsService } from '../../src/modules/requests/requests.service';
import { WrapsService } from '../../src/modules/requests/wraps.service';
import { WorkflowsService } from '../../src/modules/workflows/workflows.service';
import { createMediumApp, expectAppError, MediumApp } from '../helpers/medium-app';
import { AgentFixture, auditOf, countRows, Member, MediumFixtures } from '../helpers/medium-fixtures';

/**
 * Requests as services see them (no HTTP): a policy picks the workflow at submit, eligible approvers decide stage by
 * stage, the request follows its job, and every step writes its audit events in its own transaction (a refused or
 * failed step writes none). Another tenant's request is never there (404, not 403).
 */
describe('requests lifecycle and approvals (medium)', () => {
  let m: MediumApp;
  let f: MediumFixtures;
  let requests: RequestsService;
  let transitions: RequestTransitionsService;
  let owner: Member;
  let tenantId: string;
  let workspace: string;
  let prod: string;
  let dev: string;
  let opsAgent: AgentFixture; // the only agent of workspace ops: tests that run a job claim there, so no other test's job is in the way
  let secretOps: string;
  let secretProd: string;
  let secretDev: string;
  let alice: Member; // requester and approver tenant-wide: may approve others' requests, never her own
  let bob: Member; // approver tenant-wide
  let carol: Member; // approver tenant-wide, named in stage 2
  let frank: Member; // approver at the workspace, named in stage 2
  let dave: Member; // requester only: no request.approve anywhere
  let erin: Member; // approver at the dev environment only
  let mallory: Member; // admin of another tenant
  let twoStage: string;
  let twoStagePolicy: string;

  const as = <T>(who: Member | Principal, fn: (p: Principal) => Promise<T>) => {
    const p = 'principal' in who ? who.principal : who;
    return m.as(p, () => fn(p));
  };
  const create = (who: Member, body: { type: string; secret_id: string; title?: string; reason?: string; value?: string; submit?: boolean }) =>
    as(who, (p) => requests.create(p, { title: 't', reason: 'r', ...body }));
  const approve = (who: Member, id: string, comment?: string) => as(who, (p) => transitions.approve(p, id, comment));
  const statusOf = async (id: string) => (await m.sql.query(`SELECT status, current_stage FROM requests WHERE id = $1`, [id])).rows[0] as { status: string; current_stage: number | null };
  const actions = async (id: string) => (await auditOf(m, id)).map((e) => e.action);

  beforeAll(async () => {
    m = await createMediumApp();
    f = new MediumFixtures(m);
    requests = m.get(RequestsService);
    transitions = m.get(RequestTransitionsService);
    ({ owner, tenantId } = await f.tenant('acme'));
    workspace = await f.workspace(owner, 'pay');
    prod = await f.environment(owner, workspace, 'prod', true);
    dev = await f.environment(owner, workspace, 'dev');
    const prodAgent = await f.agent(owner, 'prod-agent', { workspaceId: workspace, environmentId: prod });
    const devAgent = await f.agent(owner, 'dev-agent', { workspaceId: workspace, environmentId: dev });
    secretProd = await f.secret(prodAgent, owner, 'prod/db');
    secretDev = await f.secret(devAgent, owner, 'dev/db');
    opsAgent = await f.agent(owner, 'ops-agent', { workspaceId: await f.workspace(owner, 'ops') });
    secretOps = await f.secret(opsAgent, owner, 'ops/db');
    alice = await f.member(owner, 'alice@acme.example', [['requester', 'tenant', tenantId], ['approver', 'tenant', tenantId]]);
    bob = await f.member(owner, 'bob@acme.example', [['approver', 'tenant', tenantId]]);
    carol = await f.member(owner, 'carol@acme.example', [['approver', 'tenant', tenantId]]);
    frank = await f.member(owner, 'frank@acme.example', [['approver', 'workspace', workspace]]);
    dave = await f.member(owner, 'dave@acme.example', [['requester', 'tenant', tenantId]]);
    erin = await f.member(owner, 'erin@acme.example', [['approver', 'environment', dev]]);
    const other = await f.tenant('other');
    mallory = await f.member(other.owner, 'mallory@other.example', [['admin', 'tenant', other.tenantId]]);

    const approverRole = await f.roleId(owner, 'approver');
    twoStage = (
      await as(owner, (p) =>
        m.get(WorkflowsService).create(p, {
          name: 'two stages',
          stages: [
            { name: 'lead', required_approvals: 1, approver_role_ids: [approverRole] },
            { name: 'pair', required_approvals: 2, approver_user_ids: [carol.userId, frank.userId] },
          ],
        }),
      )
    ).id;
    twoStagePolicy = (
      await as(owner, (p) =>
        m.get(PoliciesService).create(p, { name: 'rotations in prod', priority: 10, effect: 'require_approval', workflow_id: twoStage, match: { request_types: ['secret.rotate'], environment_ids: [prod] } }),
      )
    ).id;
  });
  afterAll(() => m?.close());

  it('create: the matching policy picks the workflow; the row, request.created and request.submitted commit together', async () => {
    const created = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    expect(created).toMatchObject({ type: 'secret.rotate', status: 'pending_approval', current_stage: 0, requester_id: alice.userId, workspace_id: workspace, environment_id: prod });
    expect(created.policy_decision).toMatchObject({ effect: 'require_approval', policy_id: twoStagePolicy });
    expect(created.workflow).toMatchObject({ id: twoStage, stages: [{ name: 'lead' }, { name: 'pair' }] });
    const events = await auditOf(m, created.id);
    expect(events.map((e) => e.action)).toEqual(['request.created', 'request.submitted']);
    expect(events.every((e) => e.actor_id === alice.userId && e.tenant_id === tenantId)).toBe(true);
    expect(events[1].payload).toMatchObject({ effect: 'require_approval', policy_id: twoStagePolicy });

    // The same type in dev matches no policy: the tenant's default workflow (one approval).
    const inDev = await create(alice, { type: 'secret.rotate', secret_id: secretDev });
    expect(inDev.policy_decision).toMatchObject({ effect: 'require_approval', policy_id: null });
    expect(inDev.workflow?.id).not.toBe(twoStage);
    expect(inDev.workflow?.stages).toHaveLength(1);
  });

  it('a draft is submitted by its requester only, then the policy decides', async () => {
    const draft = await create(alice, { type: 'secret.rotate', secret_id: secretProd, submit: false });
    expect(draft.status).toBe('draft');
    expect(await actions(draft.id)).toEqual(['request.created']);
    await expectAppError(as(bob, (p) => requests.submit(p, draft.id)), 404, 'NOT_FOUND'); // a draft is not bob's to see
    const submitted = await as(alice, (p) => requests.submit(p, draft.id));
    expect(submitted).toMatchObject({ status: 'pending_approval', workflow: { id: twoStage } });
  });

  it('stage by stage: refused approvals (self, ineligible, not in stage, duplicate) write nothing; the last one starts the job', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    const before = await actions(id);

    await expectAppError(approve(alice, id), 422, 'SELF_APPROVAL_FORBIDDEN');
    await expectAppError(approve(dave, id), 422, 'NOT_AN_ELIGIBLE_APPROVER'); // no request.approve at all
    await expectAppError(approve(erin, id), 422, 'NOT_AN_ELIGIBLE_APPROVER'); // request.approve only in dev
    await expectAppError(as(bob, (p) => transitions.approve(p, id, undefined, carol.userId)), 403, 'PERMISSION_DENIED'); // only as oneself

    const lead = await approve(bob, id, 'looks right');
    expect(lead).toMatchObject({ status: 'pending_approval', current_stage: 1 });
    // Stage 2 names carol and frank: bob's role no longer makes him eligible.
    const notInStage = await expectAppError(approve(bob, id), 422, 'NOT_AN_ELIGIBLE_APPROVER');
    expect(notInStage.details).toEqual([{ reason: expect.stringContaining('pair') }]);

    const first = await approve(carol, id);
    expect(first).toMatchObject({ status: 'pending_approval', current_stage: 1 });
    await expectAppError(approve(carol, id), 422, 'ALREADY_DECIDED');
    const approvers = await as(alice, (p) => requests.approvers(p, id));
    expect(approvers).toMatchObject({ stage: 1, stage_name: 'pair', required: 2, approved_by: [carol.userId], remaining: 1, eligible: [{ user_id: frank.userId, email: frank.email }] });

    const last = await approve(frank, id);
    expect(last.status).toBe('executing');
    expect(last.job_id).toMatch(/^job_/);
    const job = (await m.sql.query(`SELECT tenant_id, type, status, owner_type, owner_id, workspace_id, environment_id, capability FROM jobs WHERE id = $1`, [last.job_id])).rows[0];
    expect(job).toEqual({ tenant_id: tenantId, type: 'secret.rotate', status: 'queued', owner_type: 'request', owner_id: id, workspace_id: workspace, environment_id: prod, capability: 'file' });

    // Exactly the successful steps left a trace: three approvals, and their events in order.
    expect(await countRows(m, 'approvals', 'request_id', id)).toBe(3);
    expect((await actions(id)).slice(before.length)).toEqual([
      'request.approval_given',
      'request.stage_approved',
      'request.approval_given',
      'request.approval_given',
      'request.approved',
      'request.execution_started',
    ]);
  });

  it('concurrent decisions serialise on the request: the last stage passes once, one job, one request.approved; a double click counts once', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    await approve(bob, id);
    const [double, other] = await Promise.allSettled([approve(carol, id), approve(carol, id)]);
    expect([double.status, other.status].sort()).toEqual(['fulfilled', 'rejected']);
    const refused = [double, other].find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(refused.reason).toMatchObject({ status: 422, code: 'ALREADY_DECIDED' });

    const id2 = (await create(alice, { type: 'secret.rotate', secret_id: secretProd })).id;
    await approve(bob, id2);
    const results = await Promise.all([approve(carol, id2), approve(frank, id2)]);
    expect(results.map((r) => r.status).sort()).toEqual(['executing', 'pending_approval']);
    expect(await statusOf(id2)).toMatchObject({ status: 'executing' });
    expect(await countRows(m, 'jobs', 'owner_id', id2)).toBe(1);
    expect((await actions(id2)).filter((a) => a === 'request.approved')).toHaveLength(1);
  });

  it('a step that fails after its first writes leaves no approval and no audit event (one transaction)', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretDev }); // default workflow: one approval
    const before = await actions(id);
    // Make the job insert of the final approval fail, after the approval row and its events were written.
    await m.sql.query(`ALTER TABLE jobs ADD CONSTRAINT medium_no_rotate_jobs CHECK (type <> 'secret.rotate') NOT VALID`);
    try {
      await expect(approve(bob, id)).rejects.toBeDefined();
    } finally {
      await m.sql.query(`ALTER TABLE jobs DROP CONSTRAINT medium_no_rotate_jobs`);
    }
    expect(await statusOf(id)).toEqual({ status: 'pending_approval', current_stage: 0 });
    expect(await countRows(m, 'approvals', 'request_id', id)).toBe(0);
    expect(await actions(id)).toEqual(before);
    expect(await countRows(m, 'jobs', 'owner_id', id)).toBe(0);

    // The same step succeeds once nothing stands in its way.
    expect((await approve(bob, id)).status).toBe('executing');
    expect((await actions(id)).slice(before.length)).toEqual(['request.approval_given', 'request.approved', 'request.execution_started']);
  });

  it('the request follows its job: the agent completes it and the request is completed', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretOps });
    const executing = await approve(carol, id);
    expect(executing.job_id).toBeTruthy();
    const jobs = m.get(JobsService);
    const claimed = await as(opsAgent.principal, (p) => jobs.claim(p, 0));
    expect(claimed).toMatchObject({ id: executing.job_id, request_id: id });
    expect((await as(alice, (p) => requests.get(p, id))).status).toBe('executing');
    await as(opsAgent.principal, (p) => jobs.complete(p, claimed!.id, { lease_token: claimed!.lease_token, status: 'succeeded' }));
    const done = await as(alice, (p) => requests.get(p, id));
    expect(done.status).toBe('completed');
    expect(done.timeline.map((e) => e.action)).toEqual(expect.arrayContaining(['request.created', 'request.approved', 'request.execution_started', 'request.completed']));
  });

  it('rejection: one rejection rejects; nothing can be decided afterwards', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    await expectAppError(as(alice, (p) => transitions.reject(p, id, 'no')), 422, 'SELF_APPROVAL_FORBIDDEN');
    const rejected = await as(bob, (p) => transitions.reject(p, id, 'not during the freeze'));
    expect(rejected.status).toBe('rejected');
    expect((await auditOf(m, id)).slice(-2).map((e) => [e.action, e.actor_id])).toEqual([
      ['request.rejection_given', bob.userId],
      ['request.rejected', bob.userId],
    ]);
    const late = await expectAppError(approve(carol, id), 409, 'INVALID_STATE_TRANSITION');
    expect(late.details).toEqual([{ current_status: 'rejected', allowed: [] }]);
    // An approver sees a request only while they may decide it: once rejected, bob no longer does.
    await expectAppError(as(bob, (p) => requests.get(p, id)), 404, 'NOT_FOUND');
    expect((await as(alice, (p) => requests.get(p, id))).status).toBe('rejected');
  });

  it('cancel: the requester may; an approver who sees it may not (403); one who cannot see it gets 404', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    await expectAppError(as(bob, (p) => transitions.cancel(p, id, 'mine now')), 403, 'PERMISSION_DENIED');
    await expectAppError(as(dave, (p) => transitions.cancel(p, id, 'nosy')), 404, 'NOT_FOUND');
    const before = await actions(id);
    const cancelled = await as(alice, (p) => transitions.cancel(p, id, 'not needed'));
    expect(cancelled.status).toBe('cancelled');
    expect((await actions(id)).slice(before.length)).toEqual(['request.cancelled']);
    await expectAppError(as(alice, (p) => transitions.cancel(p, id, 'again')), 409, 'INVALID_STATE_TRANSITION');
    // The owner holds request.read_all and request.execute: a cancel of someone else's request is theirs to make.
    const other = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    expect((await as(owner, (p) => transitions.cancel(p, other.id, 'freeze'))).status).toBe('cancelled');
  });

  it('expiry: the sweeper expires pending requests past their deadline, as the system, and only those', async () => {
    const timed = (
      await as(owner, (p) =>
        m.get(WorkflowsService).create(p, { name: 'timed', approval_timeout_seconds: 60, stages: [{ name: 'one', required_approvals: 1, approver_user_ids: [bob.userId] }] }),
      )
    ).id;
    const policy = await as(owner, (p) => m.get(PoliciesService).create(p, { name: 'timed reads', priority: 50, effect: 'require_approval', workflow_id: timed, match: { request_types: ['secret.read'], environment_ids: [prod] } }));
    try {
      const late = await create(alice, { type: 'secret.read', secret_id: secretProd });
      const fresh = await create(alice, { type: 'secret.read', secret_id: secretProd });
      const deadline = (await m.sql.query(`SELECT approval_expires_at FROM requests WHERE id = $1`, [fresh.id])).rows[0].approval_expires_at as Date;
      expect(deadline.getTime()).toBeGreaterThan(Date.now() + 30_000);
      // The deadline of one request passes (the clock is the database's: move the deadline, not time).
      await m.sql.query(`UPDATE requests SET approval_expires_at = now() - interval '1 second' WHERE id = $1`, [late.id]);

      expect(await m.get(RequestExpirySweeper).expireStale()).toBe(1);
      expect((await statusOf(late.id)).status).toBe('expired');
      expect((await statusOf(fresh.id)).status).toBe('pending_approval');
      const [expired] = (await auditOf(m, late.id)).filter((e) => e.action === 'request.expired');
      expect(expired).toMatchObject({ actor_type: 'system', actor_id: null, tenant_id: tenantId, outcome: 'failure' });
      await expectAppError(approve(bob, late.id), 409, 'INVALID_STATE_TRANSITION');
      expect(await m.get(RequestExpirySweeper).expireStale()).toBe(0); // nothing left to expire
    } finally {
      await as(owner, (p) => m.get(PoliciesService).remove(p, policy.id));
    }
  });

  it('break-glass: needs request.break_glass (403 without), approves at once, flagged and audited', async () => {
    const { id } = await create(dave, { type: 'secret.rotate', secret_id: secretProd });
    const before = await actions(id);
    await expectAppError(as(bob, (p) => transitions.breakGlass(p, id, 'incident')), 403, 'PERMISSION_DENIED');
    expect(await actions(id)).toEqual(before);
    const broken = await as(owner, (p) => transitions.breakGlass(p, id, 'incident 4711'));
    expect(broken).toMatchObject({ status: 'executing', break_glass: true });
    const events = (await auditOf(m, id)).slice(before.length);
    expect(events.map((e) => e.action)).toEqual(['request.break_glass', 'request.execution_started']);
    expect(events[0]).toMatchObject({ actor_id: owner.userId, payload: { reason: 'incident 4711', previous_status: 'pending_approval' } });
    await expectAppError(as(owner, (p) => transitions.breakGlass(p, id, 'again')), 409, 'INVALID_STATE_TRANSITION');
  });

  it('read flow: the agent wraps the value for the job it holds; the requester reveals it once', async () => {
    const { id } = await create(dave, { type: 'secret.read', secret_id: secretOps });
    const executing = await approve(bob, id);
    expect(executing.status).toBe('executing');
    const jobs = m.get(JobsService);
    const claimed = await as(opsAgent.principal, (p) => jobs.claim(p, 0));
    expect(claimed).toMatchObject({ id: executing.job_id, type: 'secret.read', request_id: id });
    const dek = await as(opsAgent.principal, (p) => m.get(AgentsService).issueDek(p));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(dek.dek, 'base64'), iv);
    const ciphertext = Buffer.concat([cipher.update('pr0d-db-password', 'utf8'), cipher.final()]);
    const wraps = m.get(WrapsService);
    const { wrap_id } = await as(opsAgent.principal, (p) =>
      wraps.createReadWrap(p, { job_id: claimed!.id, dek_id: dek.dek_id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') }),
    );
    await as(opsAgent.principal, (p) => jobs.complete(p, claimed!.id, { lease_token: claimed!.lease_token, status: 'succeeded' }));
    expect((await as(dave, (p) => requests.get(p, id))).status).toBe('completed');

    await expectAppError(as(bob, (p) => wraps.reveal(p, id, wrap_id)), 404, 'NOT_FOUND'); // only the requester
    await expectAppError(as(mallory, (p) => wraps.reveal(p, id, wrap_id)), 404, 'NOT_FOUND');
    expect(await as(dave, (p) => wraps.reveal(p, id, wrap_id))).toEqual({ value: 'pr0d-db-password' });
    await expectAppError(as(dave, (p) => wraps.reveal(p, id, wrap_id)), 410, 'WRAP_CONSUMED');
    const stored = (await m.sql.query(`SELECT ciphertext, wrapped_dek, consumed_at FROM wraps WHERE id = $1`, [wrap_id])).rows[0];
    expect(stored).toMatchObject({ ciphertext: null, wrapped_dek: null, consumed_at: expect.any(Date) });
  });

  it('a re-delivered read job wraps again: the newer wrap replaces an unrevealed one; once revealed, the value is not handed over twice', async () => {
    const jobs = m.get(JobsService);
    const wraps = m.get(WrapsService);
    const wrapOnce = async (jobId: string, value: string) => {
      const dek = await as(opsAgent.principal, (p) => m.get(AgentsService).issueDek(p));
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', Buffer.from(dek.dek, 'base64'), iv);
      const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return as(opsAgent.principal, (p) =>
        wraps.createReadWrap(p, { job_id: jobId, dek_id: dek.dek_id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') }),
      );
    };
    /** The agent died holding the job: its lease runs out and the sweeper queues the job again. */
    const redeliver = async (jobId: string) => {
      await m.sql.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [jobId]);
      await jobs.sweepExpiredLeases();
      const again = await as(opsAgent.principal, (p) => jobs.claim(p, 0));
      expect(again).toMatchObject({ id: jobId, attempt: 2 });
      return again!;
    };
    const readWraps = async (requestId: string) => (await m.sql.query(`SELECT id, consumed_at FROM wraps WHERE request_id = $1 AND kind = 'read' ORDER BY id`, [requestId])).rows;

    // Not yet revealed: the second wrap replaces the first.
    const first = await create(dave, { type: 'secret.read', secret_id: secretOps });
    const j1 = (await approve(bob, first.id)).job_id as string;
    expect(await as(opsAgent.principal, (p) => jobs.claim(p, 0))).toMatchObject({ id: j1 });
    const w1 = await wrapOnce(j1, 'value-one');
    const again1 = await redeliver(j1);
    const w2 = await wrapOnce(j1, 'value-one');
    expect((await readWraps(first.id)).map((w) => w.id)).toEqual([w2.wrap_id]);
    await as(opsAgent.principal, (p) => jobs.complete(p, j1, { lease_token: again1.lease_token, status: 'succeeded' }));
    await expectAppError(as(dave, (p) => wraps.reveal(p, first.id, w1.wrap_id)), 404, 'NOT_FOUND');
    expect(await as(dave, (p) => wraps.reveal(p, first.id, w2.wrap_id))).toEqual({ value: 'value-one' });

    // Already revealed: the re-delivered job's wrap is not stored; the agent is told the revealed wrap's id.
    const second = await create(dave, { type: 'secret.read', secret_id: secretOps });
    const j2 = (await approve(bob, second.id)).job_id as string;
    expect(await as(opsAgent.principal, (p) => jobs.claim(p, 0))).toMatchObject({ id: j2 });
    const r1 = await wrapOnce(j2, 'value-two');
    expect(await as(dave, (p) => wraps.reveal(p, second.id, r1.wrap_id))).toEqual({ value: 'value-two' });
    await redeliver(j2);
    expect(await wrapOnce(j2, 'value-two')).toEqual({ wrap_id: r1.wrap_id });
    expect(await readWraps(second.id)).toEqual([{ id: r1.wrap_id, consumed_at: expect.any(Date) }]);
    await expectAppError(as(dave, (p) => wraps.reveal(p, second.id, r1.wrap_id)), 410, 'WRAP_CONSUMED');
    expect((await auditOf(m, second.id)).length).toBeGreaterThan(0);
  });

  it('cannot read or move another tenant’s request: every call is 404, never 403, and writes nothing', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    const before = await actions(id);
    await expectAppError(as(mallory, (p) => requests.get(p, id)), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => requests.approvers(p, id)), 404, 'NOT_FOUND');
    await expectAppError(approve(mallory, id), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => transitions.reject(p, id, 'x')), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => transitions.cancel(p, id, 'x')), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => transitions.breakGlass(p, id, 'x')), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => transitions.execute(p, id)), 404, 'NOT_FOUND');
    expect((await as(mallory, (p) => requests.list(p, { limit: 200 }))).data).toEqual([]);
    expect((await as(mallory, (p) => requests.inbox(p, { limit: 200 }))).data).toEqual([]);
    // Nor can a request name another tenant's secret.
    await expectAppError(create(mallory, { type: 'secret.rotate', secret_id: secretProd }), 422, 'INVALID_TARGET');
    expect(await actions(id)).toEqual(before);
    expect(await statusOf(id)).toEqual({ status: 'pending_approval', current_stage: 0 });
  });

  it('within the tenant: a member who neither asked, reads all nor may decide gets 404; lists show only what one may see', async () => {
    const { id } = await create(alice, { type: 'secret.rotate', secret_id: secretProd });
    await expectAppError(as(dave, (p) => requests.get(p, id)), 404, 'NOT_FOUND');
    await expectAppError(as(erin, (p) => requests.get(p, id)), 404, 'NOT_FOUND');
    expect((await as(bob, (p) => requests.get(p, id))).id).toBe(id); // may decide stage 1 now
    const inbox = await as(bob, (p) => requests.inbox(p, { limit: 200 }));
    expect(inbox.data.map((r) => r.id)).toContain(id);
    expect((await as(alice, (p) => requests.inbox(p, { limit: 200 }))).data.map((r) => r.id)).not.toContain(id); // never one's own
    const daveList = await as(dave, (p) => requests.list(p, { limit: 200 }));
    expect(daveList.data.every((r) => r.requester_id === dave.userId)).toBe(true);
  });
});
