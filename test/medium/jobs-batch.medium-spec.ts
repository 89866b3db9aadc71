import { Principal } from '../../src/common/auth/principal';
import { asTenantId } from '../../src/common/db/tenant-id';
import { JobRow } from '../../src/modules/jobs/job.entity';
import { JobsRepository } from '../../src/modules/jobs/jobs.repository';
import { JobsService } from '../../src/modules/jobs/jobs.service';
import { createMediumApp, expectAppError, MediumApp } from '../helpers/medium-app';
import { AgentFixture, Member, MediumFixtures } from '../helpers/medium-fixtures';

/**
 * Batch claims and completions against a real database: one statement leases up to N jobs (routing as for one job,
 * SKIP LOCKED, a token per job), owners hear `jobStarted`/`jobFinished` per job, a batch completion judges each job by
 * the single route's rule and commits as one transaction. Another tenant's jobs are never there.
 */
describe('batch claims and completions (medium)', () => {
  let m: MediumApp;
  let f: MediumFixtures;
  let jobs: JobsService;
  let repo: JobsRepository;
  let owner: Member;
  let tenantId: string;
  let workspace: string;
  let prod: string;
  let dev: string;
  let prodAgent: AgentFixture;
  let devAgent: AgentFixture;
  let otherAgent: AgentFixture;
  const started: string[] = [];
  const finished: { id: string; status: string }[] = [];

  const as = <T>(agent: AgentFixture, fn: (p: Principal) => Promise<T>) => m.as(agent.principal, () => fn(agent.principal));
  const enqueue = (environmentId: string | null, n: number, owned = false) =>
    m.as(owner.principal, async () => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const job = await jobs.enqueue({
          tenantId: asTenantId(tenantId),
          type: 'discovery.run',
          workspaceId: workspace,
          environmentId,
          capability: 'file',
          payload: { i },
          owner: owned ? { type: 'batch-test', id: `owner-${i}` } : undefined,
        });
        ids.push(job.id);
      }
      return ids;
    });

  beforeAll(async () => {
    m = await createMediumApp({ JOB_LEASE_SECONDS: '60' });
    f = new MediumFixtures(m);
    jobs = m.get(JobsService);
    repo = m.get(JobsRepository);
    jobs.registerOwner('batch-test', {
      jobStarted: async (job: JobRow) => void started.push(job.id),
      jobFinished: async (job: JobRow) => void finished.push({ id: job.id, status: job.status }),
    });
    ({ owner, tenantId } = await f.tenant('acme'));
    workspace = await f.workspace(owner, 'batch');
    prod = await f.environment(owner, workspace, 'prod');
    dev = await f.environment(owner, workspace, 'dev');
    prodAgent = await f.agent(owner, 'prod', { workspaceId: workspace, environmentId: prod });
    devAgent = await f.agent(owner, 'dev', { workspaceId: workspace, environmentId: dev });
    const other = await f.tenant('other');
    otherAgent = await f.agent(other.owner, 'other', { workspaceId: await f.workspace(other.owner, 'batch') });
  });
  afterAll(() => m?.close());

  it('the repository leases up to N routable jobs in one statement, passing over held rows, each with its own token', async () => {
    const prodJobs = await enqueue(prod, 4);
    const devJobs = await enqueue(dev, 2);
    const holder = await m.db.client();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM jobs WHERE id = $1 FOR UPDATE`, [prodJobs[0]]);
      const claimant = {
        tenantId: asTenantId(tenantId),
        agentId: prodAgent.id,
        workspaceId: workspace,
        environmentId: prod,
        capabilities: ['file'],
        hasPublicKey: false,
      };
      const leased = await repo.claim(claimant, ['t1', 't2', 't3', 't4', 't5', 't6'], 60);
      // The held job is skipped without waiting; the dev jobs are not this agent's.
      expect(leased.map((j) => [j.id, j.lease_token, j.status, j.agent_id])).toEqual(prodJobs.slice(1).map((id, i) => [id, `t${i + 1}`, 'leased', prodAgent.id]));
      expect(await repo.claim(claimant, ['t7'], 60)).toEqual([]);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    const rest = await as(prodAgent, (p) => jobs.claimBatch(p, 50, 0));
    expect(rest.jobs.map((j) => j.id)).toEqual([prodJobs[0]]);
    expect((await as(devAgent, (p) => jobs.claimBatch(p, 1, 0))).jobs.map((j) => j.id)).toEqual([devJobs[0]]);
    expect((await as(devAgent, (p) => jobs.claimBatch(p, 50, 0))).jobs.map((j) => j.id)).toEqual([devJobs[1]]);
  });

  it("owners hear jobStarted for each claimed job and jobFinished for each completed one; another tenant's agent sees none", async () => {
    const ids = await enqueue(prod, 5, true);
    expect((await as(otherAgent, (p) => jobs.claimBatch(p, 50, 0))).jobs).toEqual([]);
    started.length = 0;
    finished.length = 0;
    const claimed = (await as(prodAgent, (p) => jobs.claimBatch(p, 50, 0))).jobs;
    expect(claimed.map((j) => j.id)).toEqual(ids);
    expect(started).toEqual(ids);
    const events = await m.sql.query(`SELECT resource_id FROM audit_events WHERE action = 'job.claimed' AND resource_id = ANY($1) ORDER BY resource_id`, [ids]);
    expect(events.rows.map((r) => r.resource_id)).toEqual(ids);

    const foreign = await as(otherAgent, (p) => jobs.completeBatch(p, { completions: claimed.map((j) => ({ job_id: j.id, lease_token: j.lease_token, status: 'succeeded' as const })) }));
    expect(foreign.results.map((r) => r.outcome)).toEqual(ids.map(() => 'not_found'));
    expect(finished).toEqual([]);

    const [a, b, ...rest] = claimed;
    const res = await as(prodAgent, (p) =>
      jobs.completeBatch(p, {
        completions: [
          { job_id: a.id, lease_token: a.lease_token, status: 'succeeded', result: { n: 1 } },
          { job_id: b.id, lease_token: 'not-the-lease', status: 'succeeded' },
          ...rest.map((j) => ({ job_id: j.id, lease_token: j.lease_token, status: 'failed' as const, error: 'nope' })),
        ],
      }),
    );
    expect(res.results).toEqual([
      { job_id: a.id, outcome: 'completed' },
      { job_id: b.id, outcome: 'lease_lost' },
      ...rest.map((j) => ({ job_id: j.id, outcome: 'completed' })),
    ]);
    expect(finished).toEqual([{ id: a.id, status: 'succeeded' }, ...rest.map((j) => ({ id: j.id, status: 'failed' }))]);
  });

  it('a batch completion is one transaction: an owner hook that fails undoes every completion of the batch, and the retry completes them', async () => {
    const ids = await enqueue(prod, 3, true);
    const claimed = (await as(prodAgent, (p) => jobs.claimBatch(p, 3, 0))).jobs;
    expect(claimed.map((j) => j.id)).toEqual(ids);
    const completions = claimed.map((j) => ({ job_id: j.id, lease_token: j.lease_token, status: 'succeeded' as const }));
    let failOn: string | null = ids[2];
    jobs.registerOwner('batch-test', {
      jobFinished: async (job: JobRow) => {
        if (job.id === failOn) throw new Error('owner hook failed');
      },
    });
    try {
      await expect(as(prodAgent, (p) => jobs.completeBatch(p, { completions }))).rejects.toThrow('owner hook failed');
      const rows = await m.sql.query(`SELECT DISTINCT status FROM jobs WHERE id = ANY($1)`, [ids]);
      expect(rows.rows).toEqual([{ status: 'leased' }]);
      failOn = null;
      const retried = await as(prodAgent, (p) => jobs.completeBatch(p, { completions }));
      expect(retried.results.map((r) => r.outcome)).toEqual(['completed', 'completed', 'completed']);
      const again = await as(prodAgent, (p) => jobs.completeBatch(p, { completions }));
      expect(again.results.map((r) => r.outcome)).toEqual(['already_completed', 'already_completed', 'already_completed']);
    } finally {
      jobs.registerOwner('batch-test', {
        jobStarted: async (job: JobRow) => void started.push(job.id),
        jobFinished: async (job: JobRow) => void finished.push({ id: job.id, status: job.status }),
      });
    }
  });

  it('a batch naming one job twice is refused before anything is written', async () => {
    const [id] = await enqueue(prod, 1);
    const [job] = (await as(prodAgent, (p) => jobs.claimBatch(p, 1, 0))).jobs;
    expect(job.id).toBe(id);
    const twice = { job_id: id, lease_token: job.lease_token, status: 'succeeded' as const };
    const err = await expectAppError(
      as(prodAgent, (p) => jobs.completeBatch(p, { completions: [twice, twice] })),
      400,
      'VALIDATION_FAILED',
    );
    expect(err.details).toEqual([{ field: 'completions[1].job_id', issue: 'names a job already in this batch' }]);
    expect((await m.sql.query(`SELECT status FROM jobs WHERE id = $1`, [id])).rows[0].status).toBe('leased');
  });
});
