import { Principal } from '../../src/common/auth/principal';
import { AgentsService } from '../../src/modules/agents/agents.service';
import { JobsService } from '../../src/modules/jobs/jobs.service';
import { createMediumApp, expectAppError, MediumApp } from '../helpers/medium-app';
import { AgentFixture, auditOf, Member, MediumFixtures } from '../helpers/medium-fixtures';

/** A workspace of its own per test (so no other test's job is in the way), with agents at the places a job can go. */
interface Scene {
  workspace: string;
  prod: string;
  dev: string;
  prodAgent: AgentFixture;
  prodAgent2: AgentFixture;
  devAgent: AgentFixture;
  wideAgent: AgentFixture; // the whole workspace, no environment
  k8sAgent: AgentFixture; // prod, but another capability
}

/**
 * The job queue against a real database: routing (tenant, workspace, environment, capability, pinned agent), claims
 * with FOR UPDATE SKIP LOCKED (concurrent claimers never share a job), leases (expiry, reclaim, dead-lettering, a
 * revoked agent's leases released), completion by the current lease only. Another tenant's job is never there (404).
 */
describe('jobs and leases (medium)', () => {
  let m: MediumApp;
  let f: MediumFixtures;
  let jobs: JobsService;
  let owner: Member;
  let tenantId: string;
  let opsReader: Member; // agent-operator (job.read) in another workspace only
  let otherAgent: AgentFixture; // another tenant's agent, same capability
  let mallory: Member; // admin of another tenant
  let scenes = 0;

  const as = <T>(who: Member | Principal, fn: (p: Principal) => Promise<T>) => {
    const p = 'principal' in who ? who.principal : who;
    return m.as(p, () => fn(p));
  };
  const claim = (agent: AgentFixture) => as(agent.principal, (p) => jobs.claim(p, 0));
  const complete = (agent: AgentFixture, jobId: string, body: { lease_token: string; status: 'succeeded' | 'failed'; result?: Record<string, unknown>; error?: string }) =>
    as(agent.principal, (p) => jobs.complete(p, jobId, body));
  const enqueue = async (where: { workspace_id?: string; environment_id?: string; capability?: string; agent_id?: string; max_attempts?: number }, payload: Record<string, unknown> = {}) =>
    (await as(owner, (p) => jobs.create(p, { type: 'discovery.run', capability: where.agent_id ? undefined : 'file', ...where, payload }))).id;
  const row = async (id: string) =>
    (await m.sql.query(`SELECT status, agent_id, attempt, lease_token, lease_expires_at, result, error, completed_at FROM jobs WHERE id = $1`, [id])).rows[0] as {
      status: string;
      agent_id: string | null;
      attempt: number;
      lease_token: string | null;
      lease_expires_at: Date | null;
      result: Record<string, unknown> | null;
      error: string | null;
      completed_at: Date | null;
    };
  const expireLease = (id: string) => m.sql.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [id]);

  async function scene(): Promise<Scene> {
    const n = ++scenes;
    const workspace = await f.workspace(owner, `ws-${n}`);
    const prod = await f.environment(owner, workspace, 'prod');
    const dev = await f.environment(owner, workspace, 'dev');
    return {
      workspace,
      prod,
      dev,
      prodAgent: await f.agent(owner, `prod-${n}`, { workspaceId: workspace, environmentId: prod }),
      prodAgent2: await f.agent(owner, `prod2-${n}`, { workspaceId: workspace, environmentId: prod }),
      devAgent: await f.agent(owner, `dev-${n}`, { workspaceId: workspace, environmentId: dev }),
      wideAgent: await f.agent(owner, `wide-${n}`, { workspaceId: workspace }),
      k8sAgent: await f.agent(owner, `k8s-${n}`, { workspaceId: workspace, environmentId: prod, capabilities: ['kubernetes-secrets'] }),
    };
  }

  beforeAll(async () => {
    m = await createMediumApp({ JOB_LEASE_SECONDS: '60', JOB_MAX_ATTEMPTS: '3' });
    f = new MediumFixtures(m);
    jobs = m.get(JobsService);
    ({ owner, tenantId } = await f.tenant('acme'));
    const ops = await f.workspace(owner, 'ops');
    opsReader = await f.member(owner, 'ops@acme.example', [['agent-operator', 'workspace', ops]]);
    const other = await f.tenant('other');
    mallory = await f.member(other.owner, 'mallory@other.example', [['admin', 'tenant', other.tenantId]]);
    otherAgent = await f.agent(other.owner, 'other-agent', { workspaceId: await f.workspace(other.owner, 'ws-1') });
  });
  afterAll(() => m?.close());

  it('routing: only an agent of the job’s tenant, workspace, environment and capability (or the pinned agent) claims it', async () => {
    const s = await scene();
    const job = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    for (const agent of [otherAgent, s.devAgent, s.k8sAgent]) expect(await claim(agent)).toBeNull();
    expect((await row(job)).status).toBe('queued');

    const claimed = await claim(s.prodAgent);
    expect(claimed).toMatchObject({ id: job, type: 'discovery.run', attempt: 1, lease_token: expect.any(String) });
    const leased = await row(job);
    expect(leased).toMatchObject({ status: 'leased', agent_id: s.prodAgent.id, attempt: 1 });
    expect(leased.lease_expires_at!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(await auditOf(m, job)).toEqual([
      expect.objectContaining({ action: 'job.created', actor_id: owner.userId, tenant_id: tenantId }),
      expect.objectContaining({ action: 'job.claimed', actor_type: 'agent', actor_id: s.prodAgent.id, tenant_id: tenantId, payload: { type: 'discovery.run', attempt: 1 } }),
    ]);

    // A workspace-wide agent takes a job of any environment of its workspace; a pinned job goes to its agent only.
    const devJob = await enqueue({ workspace_id: s.workspace, environment_id: s.dev });
    expect((await claim(s.wideAgent))?.id).toBe(devJob);
    const pinned = await enqueue({ agent_id: s.prodAgent2.id });
    expect(await claim(s.prodAgent)).toBeNull();
    expect((await claim(s.prodAgent2))?.id).toBe(pinned);
  });

  it('SKIP LOCKED: a claim passes over a job another transaction holds, without waiting for it', async () => {
    const s = await scene();
    const first = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    const second = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    const holder = await m.db.client();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM jobs WHERE id = $1 FOR UPDATE`, [first]);
      expect((await claim(s.prodAgent))?.id).toBe(second); // the oldest is held: the next one, at once
      expect(await claim(s.prodAgent2)).toBeNull();
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    expect((await claim(s.prodAgent2))?.id).toBe(first);
  });

  it('concurrent claimers get distinct jobs, and every job is claimed once', async () => {
    const s = await scene();
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await enqueue({ workspace_id: s.workspace, environment_id: s.prod }, { n: i }));
    const claimers = [s.prodAgent, s.prodAgent2, s.wideAgent, s.prodAgent, s.prodAgent2, s.wideAgent, s.prodAgent, s.prodAgent2];
    const claimed = await Promise.all(claimers.map((a) => claim(a)));
    const got = claimed.map((c) => c?.id);
    expect(got.every((id) => id !== undefined)).toBe(true);
    expect(new Set(got).size).toBe(8);
    expect([...got].sort()).toEqual([...ids].sort());
    const leased = (await m.sql.query(`SELECT count(*)::int AS n, count(DISTINCT lease_token)::int AS tokens FROM jobs WHERE id = ANY($1) AND status = 'leased' AND attempt = 1`, [ids])).rows[0];
    expect(leased).toEqual({ n: 8, tokens: 8 });
    expect(await claim(s.prodAgent)).toBeNull();
  });

  it('complete: only the current lease completes; repeating it is a no-op; another tenant’s agent gets 404', async () => {
    const s = await scene();
    const ok = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    const lease = (await claim(s.prodAgent))!;
    await expectAppError(complete(s.prodAgent, ok, { lease_token: 'not-the-token', status: 'succeeded' }), 409, 'LEASE_LOST');
    await expectAppError(complete(s.prodAgent2, ok, { lease_token: lease.lease_token, status: 'succeeded' }), 409, 'LEASE_LOST'); // not its lease
    await expectAppError(complete(otherAgent, ok, { lease_token: lease.lease_token, status: 'succeeded' }), 404, 'NOT_FOUND');
    expect((await row(ok)).status).toBe('leased');

    await complete(s.prodAgent, ok, { lease_token: lease.lease_token, status: 'succeeded', result: { found: 3 } });
    expect(await row(ok)).toMatchObject({ status: 'succeeded', result: { found: 3 }, lease_token: null, lease_expires_at: null, completed_at: expect.any(Date) });
    await complete(s.prodAgent, ok, { lease_token: lease.lease_token, status: 'succeeded', result: { found: 3 } }); // a retry of the same answer
    await expectAppError(complete(s.prodAgent, ok, { lease_token: lease.lease_token, status: 'failed', error: 'changed my mind' }), 409, 'LEASE_LOST');
    expect((await auditOf(m, ok)).map((e) => e.action)).toEqual(['job.created', 'job.claimed', 'job.succeeded']);

    const bad = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    const badLease = (await claim(s.prodAgent))!;
    await complete(s.prodAgent, bad, { lease_token: badLease.lease_token, status: 'failed', error: 'disk full' });
    expect(await row(bad)).toMatchObject({ status: 'failed', error: 'disk full' });
    expect((await auditOf(m, bad)).at(-1)).toMatchObject({ action: 'job.failed', outcome: 'failure', payload: { error: 'disk full' } });
  });

  it('lease expiry: the sweeper queues the job again, another agent reclaims it, and the old lease is lost', async () => {
    const s = await scene();
    const id = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    const first = (await claim(s.prodAgent))!;
    expect(await jobs.sweepExpiredLeases()).toBe(0); // a live lease stays
    await expireLease(id);
    expect(await jobs.sweepExpiredLeases()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'queued', lease_token: null, lease_expires_at: null, attempt: 1 });
    expect((await auditOf(m, id)).at(-1)).toMatchObject({ action: 'job.lease_expired', actor_type: 'system', tenant_id: tenantId, payload: { attempt: 1, max_attempts: 3 } });

    const second = (await claim(s.prodAgent2))!;
    expect(second).toMatchObject({ id, attempt: 2 });
    expect(second.lease_token).not.toBe(first.lease_token);
    await expectAppError(complete(s.prodAgent, id, { lease_token: first.lease_token, status: 'succeeded' }), 409, 'LEASE_LOST');
    await complete(s.prodAgent2, id, { lease_token: second.lease_token, status: 'succeeded' });
    expect(await row(id)).toMatchObject({ status: 'succeeded', agent_id: s.prodAgent2.id, attempt: 2 });
  });

  it('lease expiry on the last attempt: the job is dead, and nobody claims it again', async () => {
    const s = await scene();
    const id = await enqueue({ workspace_id: s.workspace, environment_id: s.prod, max_attempts: 1 });
    const lease = (await claim(s.prodAgent))!;
    await expireLease(id);
    expect(await jobs.sweepExpiredLeases()).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'dead', error: 'lease expired on the last attempt', completed_at: expect.any(Date) });
    expect((await auditOf(m, id)).at(-1)).toMatchObject({ action: 'job.dead', outcome: 'failure', actor_type: 'system' });
    expect(await claim(s.prodAgent2)).toBeNull();
    await expectAppError(complete(s.prodAgent, id, { lease_token: lease.lease_token, status: 'succeeded' }), 409, 'LEASE_LOST');
  });

  it('a heartbeat extends the agent’s leases; revoking the agent releases them to another agent', async () => {
    const s = await scene();
    const id = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    await claim(s.prodAgent);
    await m.sql.query(`UPDATE jobs SET lease_expires_at = now() + interval '1 second' WHERE id = $1`, [id]);
    await as(s.prodAgent.principal, (p) => m.get(AgentsService).heartbeat(p, { version: '1.0.0', capabilities: ['file'] }));
    expect((await row(id)).lease_expires_at!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(await jobs.sweepExpiredLeases()).toBe(0);

    await as(owner, (p) => m.get(AgentsService).revoke(p, s.prodAgent.id));
    expect(await row(id)).toMatchObject({ status: 'queued', lease_token: null });
    await expectAppError(f.agentPrincipal(s.prodAgent.id, s.prodAgent.secret), 401, 'TOKEN_REVOKED');
    expect((await claim(s.prodAgent2))?.id).toBe(id);
  });

  it('cannot read, create into or complete another tenant’s jobs (404, never 403); in the tenant, job.read follows the workspace (403)', async () => {
    const s = await scene();
    const id = await enqueue({ workspace_id: s.workspace, environment_id: s.prod });
    await expectAppError(as(mallory, (p) => jobs.get(p, id)), 404, 'NOT_FOUND');
    expect((await as(mallory, (p) => jobs.list(p, { limit: 200 }))).data.map((j) => j.id)).not.toContain(id);
    await expectAppError(as(mallory, (p) => jobs.create(p, { type: 'discovery.run', capability: 'file', workspace_id: s.workspace })), 404, 'NOT_FOUND');
    await expectAppError(as(mallory, (p) => jobs.create(p, { type: 'discovery.run', agent_id: s.prodAgent.id })), 404, 'NOT_FOUND');
    const lease = (await claim(s.prodAgent))!;
    await expectAppError(complete(otherAgent, id, { lease_token: lease.lease_token, status: 'failed', error: 'x' }), 404, 'NOT_FOUND');
    expect((await row(id)).status).toBe('leased');

    // Same tenant, job.read in another workspace only: the job exists for them, but is not theirs to read.
    await expectAppError(as(opsReader, (p) => jobs.get(p, id)), 403, 'PERMISSION_DENIED');
    expect((await as(opsReader, (p) => jobs.list(p, { limit: 200 }))).data).toEqual([]);
    expect((await as(owner, (p) => jobs.get(p, id))).status).toBe('leased');
  });
});
