import request from 'supertest';
import { JobsService } from '../../src/modules/jobs/jobs.service';
import { auth, createTenant, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

// Found by the cluster crash suite: an agent killed after the server committed its claim, then restarted with the same
// identity, kept extending the orphaned lease with every heartbeat, so the job (and its request) stayed leased for
// ever. A heartbeat that names the running jobs extends only theirs; the orphan runs out and is queued again.

describe('heartbeats extend only the leases of running jobs (e2e)', () => {
  let t: TestApp;
  let agent: { id: string; secret: string };
  let workspaceId: string;

  const sql = async <T>(text: string, params: unknown[]): Promise<T[]> => {
    const c = await t.db.client();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };
  const enqueue = async (suffix: string): Promise<string> => {
    const id = `job_HB${suffix.padStart(24, '0')}`;
    await sql(`INSERT INTO jobs (id, tenant_id, workspace_id, capability, type, payload) SELECT $1, tenant_id, id, 'file', 'discovery.run', '{}'::jsonb FROM workspaces WHERE id = $2`, [id, workspaceId]);
    return id;
  };
  const claim = () => request(t.http).post(`/api/v1/agents/${agent.id}/jobs/claim`).set('X-Agent-Secret', agent.secret).send({ max_jobs: 1, wait_seconds: 0 });
  const heartbeat = (body: Record<string, unknown>) => request(t.http).post(`/api/v1/agents/${agent.id}/heartbeat`).set('X-Agent-Secret', agent.secret).send(body);
  const leaseOf = async (id: string) => (await sql<{ lease_expires_at: Date | null; status: string }>('SELECT lease_expires_at, status FROM jobs WHERE id = $1', [id]))[0];
  /** Moves a job's lease to `seconds` from now, as if it had been claimed that long ago. */
  const ageLease = (id: string, seconds: number) => sql(`UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $2) WHERE id = $1`, [id, seconds]);

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_AGENT: '100000' } });
    const admin = await setupPlatform(t);
    const { owner } = await createTenant(t, admin, 'hb-leases');
    const ws = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'hb', display_name: 'HB' });
    workspaceId = ws.body.id;
    const minted = await request(t.http).post('/api/v1/agents').set(auth(owner.token)).send({ name: 'hb', workspace_id: workspaceId, cluster_name: 'c1', capabilities: ['file'] });
    agent = { id: minted.body.agent.id, secret: minted.body.agent_secret };
  });
  afterAll(() => t.close());

  it('a heartbeat naming no job leaves an orphaned lease to run out; the sweeper queues the job again', async () => {
    const orphan = await enqueue('1');
    const claimed = await claim();
    expect(claimed.status).toBe(200);
    expect(claimed.body.jobs.map((j: { id: string }) => j.id)).toEqual([orphan]);
    await ageLease(orphan, 2);
    // The restarted agent runs nothing: its heartbeat must not revive the lease.
    expect((await heartbeat({ version: '1.0.0', running_job_ids: [] })).status).toBe(204);
    const after = await leaseOf(orphan);
    expect(after.lease_expires_at && after.lease_expires_at.getTime() - Date.now()).toBeLessThan(3000);
    await ageLease(orphan, -1);
    await t.app.get(JobsService).sweepExpiredLeases();
    expect((await leaseOf(orphan)).status).toBe('queued');
  });

  it('a heartbeat extends the leases of the jobs it names, and only those', async () => {
    const running = await enqueue('2');
    const forgotten = await enqueue('3');
    for (let i = 0; i < 2; i++) expect((await claim()).body.jobs).toHaveLength(1);
    await ageLease(running, 2);
    await ageLease(forgotten, 2);
    expect((await heartbeat({ running_job_ids: [running] })).status).toBe(204);
    expect((await leaseOf(running)).lease_expires_at?.getTime()).toBeGreaterThan(Date.now() + 10_000);
    expect((await leaseOf(forgotten)).lease_expires_at?.getTime()).toBeLessThan(Date.now() + 3000);
  });

  it('without running_job_ids (older agents) every lease is extended, as before', async () => {
    const [{ id }] = await sql<{ id: string }>(`SELECT id FROM jobs WHERE status = 'leased' AND agent_id = $1 ORDER BY id LIMIT 1`, [agent.id]);
    await ageLease(id, 2);
    expect((await heartbeat({})).status).toBe(204);
    expect((await leaseOf(id)).lease_expires_at?.getTime()).toBeGreaterThan(Date.now() + 10_000);
  });

  it('refuses running_job_ids that are not job ids, naming the field', async () => {
    const res = await heartbeat({ running_job_ids: ['nope'] });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toMatch(/^running_job_ids/);
  });
});
