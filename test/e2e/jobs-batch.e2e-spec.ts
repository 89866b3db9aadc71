import request from 'supertest';
import { JobNotifier } from '../../src/modules/jobs/job-notifier';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';

interface Agent {
  id: string;
  secret: string;
}
interface Claimed {
  id: string;
  lease_token: string;
  attempt: number;
}
interface Completion {
  job_id: string;
  lease_token: string;
  status: 'succeeded' | 'failed';
  result?: Record<string, unknown>;
  error?: string;
}

async function setup(t: TestApp, admin: Session, slug: string) {
  const { owner } = await createTenant(t, admin, slug);
  const ws = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'jobs', display_name: 'Jobs' });
  expect(ws.status).toBe(201);
  const mint = async (name: string, caps = ['file']): Promise<Agent> => {
    const res = await request(t.http).post('/api/v1/agents').set(auth(owner.token)).send({ name, workspace_id: ws.body.id, cluster_name: 'c1', capabilities: caps });
    expect(res.status).toBe(201);
    return { id: res.body.agent.id, secret: res.body.agent_secret };
  };
  /** `n` queued jobs for the capability `file` of the workspace, tagged `run` in their payload; ids in order. */
  const enqueue = async (n: number, run: string, capability = 'file'): Promise<string[]> => {
    const c = await t.db.client();
    try {
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO jobs (id, tenant_id, workspace_id, capability, type, payload)
         SELECT 'job_' || $3 || lpad(g::text, 20, '0'), w.tenant_id, w.id, $4, 'discovery.run', jsonb_build_object('run', $3::text, 'n', g)
           FROM generate_series(1, $2::int) g, workspaces w WHERE w.id = $1
         RETURNING id`,
        [ws.body.id, n, run.toUpperCase().padEnd(6, 'X').slice(0, 6), capability],
      );
      return rows.map((r) => r.id).sort();
    } finally {
      await c.end();
    }
  };
  return { owner, workspace: ws.body.id as string, mint, enqueue };
}

const claim = (t: TestApp, a: Agent, body: Record<string, unknown>) => request(t.http).post(`/api/v1/agents/${a.id}/jobs/claim`).set('X-Agent-Secret', a.secret).send(body);
const completeBatch = (t: TestApp, a: Agent, completions: Completion[]) =>
  request(t.http).post(`/api/v1/agents/${a.id}/jobs/complete`).set('X-Agent-Secret', a.secret).send({ completions });
const succeeded = (jobs: Claimed[]): Completion[] => jobs.map((j) => ({ job_id: j.id, lease_token: j.lease_token, status: 'succeeded' }));

async function sql<T>(t: TestApp, text: string, params: unknown[]): Promise<T[]> {
  const c = await t.db.client();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe('batch claims and completions (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  let acme: Awaited<ReturnType<typeof setup>>;
  let globex: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_AGENT: '100000' } });
    admin = await setupPlatform(t);
    acme = await setup(t, admin, 'batch-acme');
    globex = await setup(t, admin, 'batch-globex');
  });
  afterAll(() => t.close());

  it('max_jobs claims up to N jobs at once, oldest first, each with its own lease token and a job.claimed event', async () => {
    const agent = await acme.mint('batcher', ['batch-a']);
    const ids = await acme.enqueue(7, 'bat1', 'batch-a');
    const first = await claim(t, agent, { max_jobs: 5 });
    expect(first.status).toBe(200);
    expect(first.body.jobs.map((j: Claimed) => j.id)).toEqual(ids.slice(0, 5));
    const second = await claim(t, agent, { max_jobs: 5 });
    expect(second.body.jobs.map((j: Claimed) => j.id)).toEqual(ids.slice(5));
    const all: Claimed[] = [...first.body.jobs, ...second.body.jobs];
    expect(new Set(all.map((j) => j.lease_token)).size).toBe(7);
    expect(all.every((j) => j.attempt === 1)).toBe(true);

    const rows = await sql<{ id: string; status: string; agent_id: string; lease_token: string }>(t, `SELECT id, status, agent_id, lease_token FROM jobs WHERE id = ANY($1) ORDER BY id`, [ids]);
    expect(rows).toEqual(all.map((j) => ({ id: j.id, status: 'leased', agent_id: agent.id, lease_token: j.lease_token })));
    const events = await sql<{ resource_id: string; actor_id: string }>(t, `SELECT resource_id, actor_id FROM audit_events WHERE action = 'job.claimed' AND resource_id = ANY($1) ORDER BY resource_id`, [ids]);
    expect(events).toEqual(ids.map((id) => ({ resource_id: id, actor_id: agent.id })));

    // Nothing left: with max_jobs the answer stays 200 with an empty list; without it, the old 204.
    const empty = await claim(t, agent, { max_jobs: 5 });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ jobs: [] });
    expect((await claim(t, agent, {})).status).toBe(204);

    const done = await completeBatch(t, agent, succeeded(all));
    expect(done.status).toBe(200);
    expect(done.body.results).toEqual(all.map((j) => ({ job_id: j.id, outcome: 'completed' })));
  });

  it('without max_jobs the answer keeps the single-job shape', async () => {
    const agent = await acme.mint('single', ['batch-b']);
    const [id] = await acme.enqueue(1, 'bat2', 'batch-b');
    const res = await claim(t, agent, { wait_seconds: 0 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, attempt: 1, lease_token: expect.any(String) });
    expect(res.body.jobs).toBeUndefined();
  });

  it('a batch long-poll answers 200 with an empty list after the wait, and is woken by an enqueue', async () => {
    const agent = await acme.mint('poller', ['batch-c']);
    let started = Date.now();
    const idle = await claim(t, agent, { max_jobs: 3, wait_seconds: 1 });
    expect(idle.status).toBe(200);
    expect(idle.body).toEqual({ jobs: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const notifier = t.app.get(JobNotifier);
    started = Date.now();
    const waiting = claim(t, agent, { max_jobs: 3, wait_seconds: 30 }).then((r) => r);
    for (let i = 0; i < 500 && notifier.waiting === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const created = await request(t.http).post('/api/v1/jobs').set(auth(acme.owner.token)).send({ type: 'discovery.run', agent_id: agent.id });
    const woken = await waiting;
    expect(woken.status).toBe(200);
    expect(woken.body.jobs.map((j: Claimed) => j.id)).toEqual([created.body.id]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('8 agents claiming batches over 500 jobs: no job claimed twice, none lost', async () => {
    const agents = await Promise.all(Array.from({ length: 8 }, (_, i) => acme.mint(`swarm-${i}`, ['swarm'])));
    const ids = await acme.enqueue(500, 'swarm', 'swarm');
    const claimedBy = new Map<string, string>();
    let duplicates = 0;
    let batches = 0;
    const started = Date.now();
    await Promise.all(
      agents.map(async (agent, i) => {
        for (;;) {
          // Batch sizes differ per agent (1–50) so that small and large claims race each other.
          const res = await claim(t, agent, { max_jobs: [1, 3, 7, 10, 16, 25, 40, 50][i] });
          expect(res.status).toBe(200);
          const jobs: Claimed[] = res.body.jobs;
          if (jobs.length === 0) return;
          batches++;
          for (const j of jobs) {
            if (claimedBy.has(j.id)) duplicates++;
            claimedBy.set(j.id, agent.id);
          }
          const done = await completeBatch(t, agent, succeeded(jobs));
          expect(done.body.results.every((r: { outcome: string }) => r.outcome === 'completed')).toBe(true);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const lost = ids.filter((id) => !claimedBy.has(id)).length;
    expect(duplicates).toBe(0);
    expect(lost).toBe(0);
    expect(claimedBy.size).toBe(500);
    const rows = await sql<{ status: string; n: number; max_attempt: number }>(t, `SELECT status, count(*)::int AS n, max(attempt) AS max_attempt FROM jobs WHERE id = ANY($1) GROUP BY status`, [ids]);
    expect(rows).toEqual([{ status: 'succeeded', n: 500, max_attempt: 1 }]);
    const [events] = await sql<{ claimed: number; succeeded: number }>(
      t,
      `SELECT count(*) FILTER (WHERE action = 'job.claimed')::int AS claimed, count(*) FILTER (WHERE action = 'job.succeeded')::int AS succeeded FROM audit_events WHERE resource_id = ANY($1)`,
      [ids],
    );
    expect(events).toEqual({ claimed: 500, succeeded: 500 });
    expect(new Set(claimedBy.values()).size).toBeGreaterThan(1);
    process.stdout.write(`batch claims: 500 jobs by 8 agents in ${batches} batches, ${seconds.toFixed(1)} s (${Math.round(500 / seconds)} jobs/s), duplicates ${duplicates}, lost ${lost}\n`);
  }, 120_000);

  it('a batch completion judges each job by the single route rule: completed, already_completed, lease_lost, not_found', async () => {
    const [agent, rival] = [await acme.mint('mixed', ['batch-d']), await acme.mint('rival', ['batch-e'])];
    await acme.enqueue(4, 'bat3', 'batch-d');
    const [rivalJob] = await acme.enqueue(1, 'bat4', 'batch-e');
    const [foreignJob] = await globex.enqueue(1, 'bat5', 'file');
    const mine: Claimed[] = (await claim(t, agent, { max_jobs: 4 })).body.jobs;
    const theirs: Claimed = (await claim(t, rival, { max_jobs: 1 })).body.jobs[0];
    expect(mine).toHaveLength(4);
    expect(theirs.id).toBe(rivalJob);
    const [ok, failed, repeated, stale] = mine;

    // `repeated` completes first on its own; `stale` is claimed again after its lease ran out (a new token).
    expect((await completeBatch(t, agent, succeeded([repeated]))).body.results).toEqual([{ job_id: repeated.id, outcome: 'completed' }]);
    await sql(t, `UPDATE jobs SET status = 'queued', agent_id = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = $1`, [stale.id]);
    const reclaimed: Claimed = (await claim(t, agent, { max_jobs: 1 })).body.jobs[0];
    expect(reclaimed).toMatchObject({ id: stale.id, attempt: 2 });

    const res = await completeBatch(t, agent, [
      { job_id: ok.id, lease_token: ok.lease_token, status: 'succeeded', result: { found: 3 } },
      { job_id: failed.id, lease_token: failed.lease_token, status: 'failed', error: 'disk on fire' },
      { job_id: repeated.id, lease_token: repeated.lease_token, status: 'succeeded' },
      { job_id: stale.id, lease_token: stale.lease_token, status: 'succeeded' },
      { job_id: theirs.id, lease_token: theirs.lease_token, status: 'succeeded' },
      { job_id: foreignJob, lease_token: 'whatever', status: 'succeeded' },
      { job_id: 'job_00000000000000000000000000', lease_token: 'whatever', status: 'succeeded' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { job_id: ok.id, outcome: 'completed' },
      { job_id: failed.id, outcome: 'completed' },
      { job_id: repeated.id, outcome: 'already_completed' },
      { job_id: stale.id, outcome: 'lease_lost' },
      { job_id: theirs.id, outcome: 'lease_lost' },
      { job_id: foreignJob, outcome: 'not_found' },
      { job_id: 'job_00000000000000000000000000', outcome: 'not_found' },
    ]);
    const rows = await sql<{ id: string; status: string; result: unknown; error: string | null }>(t, `SELECT id, status, result, error FROM jobs WHERE id = ANY($1) ORDER BY id`, [
      [ok.id, failed.id, stale.id, theirs.id, foreignJob],
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(ok.id)).toMatchObject({ status: 'succeeded', result: { found: 3 }, error: null });
    expect(byId.get(failed.id)).toMatchObject({ status: 'failed', error: 'disk on fire' });
    expect(byId.get(stale.id)).toMatchObject({ status: 'leased' });
    expect(byId.get(theirs.id)).toMatchObject({ status: 'leased' });
    expect(byId.get(foreignJob)).toMatchObject({ status: 'queued' });
    const events = await sql<{ action: string; resource_id: string }>(t, `SELECT action, resource_id FROM audit_events WHERE action IN ('job.succeeded', 'job.failed') AND resource_id = ANY($1) ORDER BY resource_id, action`, [
      mine.map((j) => j.id).concat(theirs.id),
    ]);
    // One event per completed job: the repeat, the stale lease and the rival's job write nothing.
    expect(events).toEqual(
      [
        { action: 'job.succeeded', resource_id: ok.id },
        { action: 'job.failed', resource_id: failed.id },
        { action: 'job.succeeded', resource_id: repeated.id },
      ].sort((a, b) => (a.resource_id < b.resource_id ? -1 : 1)),
    );

    // The single-job route agrees with the batch's verdicts.
    const single = await request(t.http).post(`/api/v1/agents/${agent.id}/jobs/${ok.id}/complete`).set('X-Agent-Secret', agent.secret).send({ lease_token: ok.lease_token, status: 'succeeded' });
    expect(single.status).toBe(204);
    const lost = await request(t.http).post(`/api/v1/agents/${agent.id}/jobs/${stale.id}/complete`).set('X-Agent-Secret', agent.secret).send({ lease_token: stale.lease_token, status: 'succeeded' });
    expect(lost.status).toBe(409);
    expect((await completeBatch(t, agent, succeeded([reclaimed]))).body.results).toEqual([{ job_id: stale.id, outcome: 'completed' }]);
  });

  it("another tenant's jobs are invisible: never claimed in a batch, not_found when completed", async () => {
    const outsider = await globex.mint('outsider', ['tenant-x']);
    const insider = await acme.mint('insider', ['tenant-x']);
    const ids = await acme.enqueue(3, 'bat6', 'tenant-x');
    const res = await claim(t, outsider, { max_jobs: 50 });
    expect(res.status).toBe(200);
    expect(res.body.jobs).toEqual([]);
    const mine: Claimed[] = (await claim(t, insider, { max_jobs: 50 })).body.jobs;
    expect(mine.map((j) => j.id)).toEqual(ids);
    const foreign = await completeBatch(t, outsider, succeeded(mine));
    expect(foreign.status).toBe(200);
    expect(foreign.body.results).toEqual(ids.map((id) => ({ job_id: id, outcome: 'not_found' })));
    const rows = await sql<{ status: string }>(t, `SELECT DISTINCT status FROM jobs WHERE id = ANY($1)`, [ids]);
    expect(rows).toEqual([{ status: 'leased' }]);
    expect((await completeBatch(t, insider, succeeded(mine))).body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['completed', 'completed', 'completed']);
  });

  it.each([
    ['0', 0],
    ['51', 51],
    ['"x"', 'x'],
    ['1.5', 1.5],
  ])('max_jobs %s → 400 naming max_jobs', async (_label, value) => {
    const agent = await acme.mint(`invalid-${String(value)}`, ['batch-f']);
    const res = await claim(t, agent, { max_jobs: value });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['max_jobs']));
    expect(res.body.error.details.every((d: { field: string }) => d.field === 'max_jobs')).toBe(true);
  });

  it('a batch completion takes 1–50 distinct, well-formed completions (400 naming the field otherwise)', async () => {
    const agent = await acme.mint('strict', ['batch-g']);
    const one: Completion = { job_id: 'job_00000000000000000000000001', lease_token: 't', status: 'succeeded' };
    const fields = async (body: unknown) => {
      const res = await request(t.http).post(`/api/v1/agents/${agent.id}/jobs/complete`).set('X-Agent-Secret', agent.secret).send(body as object);
      expect(res.status).toBe(400);
      return res.body.error.details.map((d: { field: string }) => d.field);
    };
    expect(await fields({ completions: [] })).toEqual(['completions']);
    expect(await fields({ completions: Array.from({ length: 51 }, (_, i) => ({ ...one, job_id: `job_${i}` })) })).toEqual(['completions']);
    expect(await fields({})).toContain('completions');
    expect(await fields({ completions: [{ ...one, status: 'done' }] })).toEqual(['completions[0].status']);
    expect(await fields({ completions: [one, { ...one, lease_token: '' }] })).toEqual(['completions[1].lease_token']);
    expect(await fields({ completions: [{ lease_token: 't', status: 'succeeded' }] })).toContain('completions[0].job_id');
    expect(await fields({ completions: [one, { ...one }] })).toEqual(['completions[1].job_id']);
    // 50 is allowed (all unknown here).
    const fifty = await completeBatch(t, agent, Array.from({ length: 50 }, (_, i) => ({ ...one, job_id: `job_${String(i).padStart(26, '0')}` })));
    expect(fifty.status).toBe(200);
    expect(fifty.body.results).toHaveLength(50);
  });
});
