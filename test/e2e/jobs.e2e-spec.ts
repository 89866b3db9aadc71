import request from 'supertest';
import { JobNotifier } from '../../src/modules/jobs/job-notifier';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';

interface Agent {
  id: string;
  secret: string;
}

async function setup(t: TestApp, slug: string): Promise<{ owner: Session; workspace: string; mint: (name: string, caps?: string[]) => Promise<Agent> }> {
  const { owner } = await createTenant(t, await setupPlatform(t), slug);
  const ws = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'jobs', display_name: 'Jobs' });
  const mint = async (name: string, caps = ['file']): Promise<Agent> => {
    const res = await request(t.http).post('/api/v1/agents').set(auth(owner.token)).send({ name, workspace_id: ws.body.id, cluster_name: 'c1', capabilities: caps });
    expect(res.status).toBe(201);
    return { id: res.body.agent.id, secret: res.body.agent_secret };
  };
  return { owner, workspace: ws.body.id, mint };
}

const claim = (t: TestApp, a: Agent, wait = 0) => request(t.http).post(`/api/v1/agents/${a.id}/jobs/claim`).set('X-Agent-Secret', a.secret).send({ wait_seconds: wait });
const complete = (t: TestApp, a: Agent, jobId: string, leaseToken: string, status = 'succeeded') =>
  request(t.http).post(`/api/v1/agents/${a.id}/jobs/${jobId}/complete`).set('X-Agent-Secret', a.secret).send({ lease_token: leaseToken, status });

describe('job queue (e2e)', () => {
  let t: TestApp;
  let ctx: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_AGENT: '100000' } });
    ctx = await setup(t, 'queue');
  });
  afterAll(() => t.close());

  it('8 concurrent claimers over 2,000 queued jobs: every job completed exactly once', async () => {
    const agents = await Promise.all(Array.from({ length: 8 }, (_, i) => ctx.mint(`worker-${i}`)));
    const c = await t.db.client();
    await c.query(
      `INSERT INTO jobs (id, tenant_id, workspace_id, capability, type, payload)
       SELECT 'job_' || lpad(to_hex(g), 26, '0'), w.tenant_id, w.id, 'file', 'discovery.run', jsonb_build_object('n', g)
         FROM generate_series(1, 2000) g, workspaces w WHERE w.id = $1`,
      [ctx.workspace],
    );
    const completedBy = new Map<string, string>();
    let duplicates = 0;
    const started = Date.now();
    await Promise.all(
      agents.map(async (agent) => {
        for (;;) {
          const res = await claim(t, agent);
          if (res.status === 204) return;
          expect(res.status).toBe(200);
          if (completedBy.has(res.body.id)) duplicates++;
          completedBy.set(res.body.id, agent.id);
          expect((await complete(t, agent, res.body.id, res.body.lease_token)).status).toBe(204);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(duplicates).toBe(0);
    expect(completedBy.size).toBe(2000);
    const { rows } = await c.query(`SELECT status, count(*)::int AS n, max(attempt) AS max_attempt FROM jobs WHERE workspace_id = $1 GROUP BY status`, [ctx.workspace]);
    await c.end();
    expect(rows).toEqual([{ status: 'succeeded', n: 2000, max_attempt: 1 }]);
    expect(new Set(completedBy.values()).size).toBeGreaterThan(1);
    process.stdout.write(`job queue: 2000 jobs claimed+completed by 8 agents in ${seconds.toFixed(1)} s (${Math.round(2000 / seconds)} jobs/s)\n`);
  }, 120_000);

  it('long-poll: a waiting claimer is woken by an enqueue on commit, not by polling', async () => {
    const agent = await ctx.mint('waiter');
    const notifier = t.app.get(JobNotifier);
    const started = Date.now();
    // Waits up to 30 s; an answer well before that can only come from the wake-up (bounds are loose for busy machines).
    const waiting = claim(t, agent, 30).then((r) => r); // supertest sends on then()
    for (let i = 0; i < 500 && notifier.waiting === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(notifier.waiting).toBe(1);
    const created = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', agent_id: agent.id });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(created.body.id);
    expect(Date.now() - started).toBeLessThan(20_000);
    await complete(t, agent, res.body.id, res.body.lease_token);
  });

  it('an empty long-poll returns 204 after the wait', async () => {
    const agent = await ctx.mint('idle', ['nothing-queued']);
    const started = Date.now();
    const res = await claim(t, agent, 1);
    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('routing: only agents of the workspace with the capability (or the pinned agent) can claim', async () => {
    const other = await ctx.mint('other-cap', ['kubernetes-secrets']);
    const right = await ctx.mint('right-cap', ['file']);
    const job = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', capability: 'file', workspace_id: ctx.workspace });
    const o = await claim(t, other);
    expect(o.status).toBe(204);
    const got = await claim(t, right);
    expect(got.body.id).toBe(job.body.id);
    await complete(t, right, got.body.id, got.body.lease_token);
  });

  it('completion is idempotent for the same outcome and the job list shows no lease token', async () => {
    const agent = await ctx.mint('idem');
    const job = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', agent_id: agent.id });
    const got = await claim(t, agent);
    expect((await complete(t, agent, got.body.id, got.body.lease_token)).status).toBe(204);
    expect((await complete(t, agent, got.body.id, got.body.lease_token)).status).toBe(204);
    expect((await complete(t, agent, got.body.id, got.body.lease_token, 'failed')).status).toBe(409);
    const listed = await request(t.http).get(`/api/v1/jobs/${job.body.id}`).set(auth(ctx.owner.token));
    expect(listed.body).toMatchObject({ status: 'succeeded', attempt: 1, agent_id: agent.id });
    expect(JSON.stringify(listed.body)).not.toContain(got.body.lease_token);
  });
});

describe('leases (e2e)', () => {
  let t: TestApp;
  let ctx: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    t = await createTestApp({ env: { JOB_LEASE_SECONDS: '1', JOB_SWEEP_INTERVAL_MS: '200', RATE_LIMIT_AGENT: '100000' } });
    ctx = await setup(t, 'leases');
  });
  afterAll(() => t.close());

  it('a claimer that stops mid-lease: the job is re-delivered with attempt 2, and the late completion gets 409 LEASE_LOST', async () => {
    const [first, second] = [await ctx.mint('first'), await ctx.mint('second')];
    const job = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', capability: 'file', workspace_id: ctx.workspace });
    const lost = await claim(t, first);
    expect(lost.body).toMatchObject({ id: job.body.id, attempt: 1 });

    const redelivered = await claim(t, second, 5);
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toMatchObject({ id: job.body.id, attempt: 2 });
    expect(redelivered.body.lease_token).not.toBe(lost.body.lease_token);
    expect((await complete(t, second, job.body.id, redelivered.body.lease_token)).status).toBe(204);

    const late = await complete(t, first, job.body.id, lost.body.lease_token);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('LEASE_LOST');
  });

  it('heartbeats extend the leases an agent holds', async () => {
    const agent = await ctx.mint('beating');
    await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', agent_id: agent.id });
    const got = await claim(t, agent);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect((await request(t.http).post(`/api/v1/agents/${agent.id}/heartbeat`).set('X-Agent-Secret', agent.secret).send({ version: '1.0.0' })).status).toBe(204);
    }
    expect((await complete(t, agent, got.body.id, got.body.lease_token)).status).toBe(204);
    const shown = await request(t.http).get(`/api/v1/agents/${agent.id}`).set(auth(ctx.owner.token));
    expect(shown.body).toMatchObject({ status: 'online', version: '1.0.0' });
  });

  it('after max_attempts expired leases the job is dead', async () => {
    const agent = await ctx.mint('flaky');
    const job = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', agent_id: agent.id, max_attempts: 2 });
    expect((await claim(t, agent)).body.attempt).toBe(1);
    expect((await claim(t, agent, 5)).body.attempt).toBe(2);
    let status = '';
    for (let i = 0; i < 40 && status !== 'dead'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await request(t.http).get(`/api/v1/jobs/${job.body.id}`).set(auth(ctx.owner.token))).body.status;
    }
    expect(status).toBe('dead');
    expect((await claim(t, agent)).status).toBe(204);
  });

  it('revoking an agent: its very next call is 401, and its leased job is claimable by another agent at once', async () => {
    const [doomed, heir] = [await ctx.mint('doomed'), await ctx.mint('heir')];
    const job = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', capability: 'file', workspace_id: ctx.workspace });
    const held = await claim(t, doomed);
    expect(held.body.id).toBe(job.body.id);
    await request(t.http).post(`/api/v1/agents/${doomed.id}/revoke`).set(auth(ctx.owner.token)).expect(200);
    const refused = await request(t.http).post(`/api/v1/agents/${doomed.id}/heartbeat`).set('X-Agent-Secret', doomed.secret).send({});
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('TOKEN_REVOKED');
    const taken = await claim(t, heir);
    expect(taken.body.id).toBe(job.body.id);
    expect((await request(t.http).get(`/api/v1/agents/${doomed.id}`).set(auth(ctx.owner.token))).body.status).toBe('revoked');
  });
});

describe('claims of a disconnected agent (e2e)', () => {
  let t: TestApp;
  let ctx: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_AGENT: '100000' } });
    ctx = await setup(t, 'hangup');
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => t.close());

  it('a long-poll whose client hung up stops waiting and never leases a job to it', async () => {
    const [gone, live] = [await ctx.mint('gone'), await ctx.mint('live')];
    const port = (t.http.address() as { port: number }).port;
    const controller = new AbortController();
    const abandoned = fetch(`http://127.0.0.1:${port}/api/v1/agents/${gone.id}/jobs/claim`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Agent-Secret': gone.secret },
      body: JSON.stringify({ wait_seconds: 20 }),
      signal: controller.signal,
    }).catch(() => 'aborted');
    const notifier = t.app.get(JobNotifier);
    for (let i = 0; i < 50 && notifier.waiting === 0; i++) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await abandoned).toBe('aborted');
    for (let i = 0; i < 50 && notifier.waiting > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(notifier.waiting).toBe(0);
    const job = await request(t.http).post('/api/v1/jobs').set(auth(ctx.owner.token)).send({ type: 'discovery.run', capability: 'file', workspace_id: ctx.workspace });
    const got = await claim(t, live);
    expect(got.body).toMatchObject({ id: job.body.id, attempt: 1 });
  });
});
