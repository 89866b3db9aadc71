import { Client } from 'pg';
import { Api, backgroundRuns, nextClientAddress, PASSWORD, setupTenant, Tenant } from './harness/api';
import { Cluster } from './harness/cluster';
import { Replica } from './harness/nodes';
import { sleep, until } from './harness/processes';
import { report } from './harness/summary';

/** Advisory lock keys of src/common/db/exclusive-runner.ts LOCKS (a copy: the built app is what runs). */
const LOCKS = { auditSealer: 7_301_101, idempotencySweeper: 7_301_102, jobSweeper: 7_301_103, requestExpiry: 7_301_104, auditChainWrite: 7_301_105, agentOfflineNotifier: 7_301_106 };
const AUTH_LIMIT = 12;

/**
 * Issue 13, deliverable 2: what must hold across replicas. Three production replicas behind the round-robin proxy;
 * background intervals shortened through their settings so takeover is measured in seconds.
 */
describe('cross-replica correctness', () => {
  let cluster: Cluster;
  let api: Api;
  let t: Tenant;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    cluster = await Cluster.start({
      name: 'cross-replica',
      env: {
        RATE_LIMIT_AUTH: String(AUTH_LIMIT),
        RATE_LIMIT_DEFAULT: '100000',
        RATE_LIMIT_AGENT: '100000',
        AUDIT_SEAL_INTERVAL_MS: '250',
        JOB_SWEEP_INTERVAL_MS: '250',
        REQUEST_EXPIRY_INTERVAL_MS: '250',
        IDEMPOTENCY_PURGE_INTERVAL_MS: '250',
        WEBHOOK_DISPATCH_INTERVAL_MS: '250',
        JOB_LEASE_SECONDS: '5',
        // A task frozen on purpose (below) must stay frozen longer than the 5 s interval of the agent-offline notifier.
        DB_STATEMENT_TIMEOUT_MS: '30000',
      },
    });
    api = new Api(cluster.url);
    t = await setupTenant(api, cluster.secrets.SETUP_TOKEN);
  });

  afterAll(async () => {
    if (!cluster) return;
    const { orphans } = await cluster.dispose();
    figures.requests_sent = api?.stats.sent;
    figures.replica_5xx = api?.stats.appServerErrors.length;
    figures.replica_error_log_lines = cluster.replicas.reduce((n, r) => n + r.errorLines.length, 0);
    figures.orphans = orphans.length;
    report(cluster, 'cross-replica', figures);
    expect(orphans).toEqual([]);
  });

  afterEach(() => {
    expect(api.stats.appServerErrors).toEqual([]);
  });

  const names = () => cluster.replicas.map((r) => r.name);

  it('an idempotent retry landing on another replica replays the first answer', async () => {
    const key = `ws-${Date.now()}`;
    const body = { slug: 'retried', display_name: 'Retried' };
    const first = await api.must(201, 'POST', '/api/v1/workspaces', { token: t.owner, body, headers: { 'idempotency-key': key }, replica: 'r1' });
    const replays = [];
    for (const replica of ['r2', 'r3', 'r1']) {
      const again = await api.must(201, 'POST', '/api/v1/workspaces', { token: t.owner, body, headers: { 'idempotency-key': key }, replica });
      expect(again.headers.get('x-idempotency-replayed')).toBe('true');
      expect(again.json.id).toBe(first.json.id);
      replays.push(again.replica);
    }
    const rows = await cluster.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM workspaces WHERE slug = 'retried'`);
    expect(rows[0].n).toBe(1);
    figures.idempotent_replays_on_other_replicas = replays.length;
  });

  /** `token` is refused (401/403) on every replica, each asked directly through the proxy's pin. */
  async function refusedEverywhere(urlPath: string, token: string): Promise<number[]> {
    const statuses = [];
    for (const replica of names()) statuses.push((await api.call('GET', urlPath, { token, replica })).status);
    return statuses;
  }

  async function allowedEverywhere(urlPath: string, token: string): Promise<void> {
    for (const replica of names()) await api.must(200, 'GET', urlPath, { token, replica });
  }

  it('revocations are refused on every replica on the next request: session, API key, role assignment, member', async () => {
    // Session: logout on r1, the access token then fails on r1, r2 and r3.
    const user = await t.addUser('session@cluster.example', 'auditor', 'tenant');
    await allowedEverywhere('/api/v1/auth/me', user.token);
    await api.must(204, 'POST', '/api/v1/auth/logout', { token: user.token, replica: 'r1' });
    expect(await refusedEverywhere('/api/v1/auth/me', user.token)).toEqual([401, 401, 401]);

    // API key: revoked on r2.
    const key = (await api.must(201, 'POST', '/api/v1/api-keys', { token: t.owner, body: { name: 'ci', permissions: ['audit.read'] } })).json.key as string;
    await allowedEverywhere('/api/v1/audit-events?limit=1', key);
    const keyId = (await api.must(200, 'GET', '/api/v1/api-keys?limit=50', { token: t.owner })).json.data.find((k: { name: string }) => k.name === 'ci').id;
    await api.must(200, 'POST', `/api/v1/api-keys/${keyId}/revoke`, { token: t.owner, replica: 'r2' });
    expect(await refusedEverywhere('/api/v1/audit-events?limit=1', key)).toEqual([401, 401, 401]);

    // Role assignment removed on r3: the auditor's token stays valid but loses audit.read everywhere.
    const auditor = await t.addUser('auditor@cluster.example', 'auditor', 'tenant');
    await allowedEverywhere('/api/v1/audit-events?limit=1', auditor.token);
    await api.must(204, 'DELETE', `/api/v1/user-roles/${auditor.assignmentId}`, { token: t.owner, replica: 'r3' });
    expect(await refusedEverywhere('/api/v1/audit-events?limit=1', auditor.token)).toEqual([403, 403, 403]);

    // Member disabled on r1.
    const member = await t.addUser('member@cluster.example', 'auditor', 'tenant');
    await allowedEverywhere('/api/v1/audit-events?limit=1', member.token);
    await api.must(200, 'PATCH', `/api/v1/users/${member.id}`, { token: t.owner, body: { status: 'disabled' }, replica: 'r1' });
    const disabled = await refusedEverywhere('/api/v1/audit-events?limit=1', member.token);
    for (const s of disabled) expect([401, 403]).toContain(s);
    figures.revocations_checked = { session: 3, api_key: 3, role_assignment: 3, member: 3 };
  });

  it('rate limits are shared across replicas (Redis)', async () => {
    if (!cluster.redisUrl) {
      process.stdout.write('cluster: rate-limit sharing not checked: REDIS_URL is not set (each replica would count alone)\n');
      figures.rate_limit_shared = 'skipped: no REDIS_URL';
      return;
    }
    // One client address, failed logins round-robin over the 3 replicas: the auth class allows AUTH_LIMIT per minute in all.
    const address = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    const statuses: number[] = [];
    const replicas = new Set<string>();
    for (let i = 0; i < AUTH_LIMIT * 3; i++) {
      const res = await api.call('POST', '/api/v1/auth/login', { body: { email: 'nobody@cluster.example', password: PASSWORD }, headers: { 'x-forwarded-for': address } });
      statuses.push(res.status);
      if (res.replica) replicas.add(res.replica);
    }
    const passed = statuses.filter((s) => s !== 429).length;
    expect(replicas.size).toBe(3);
    expect(passed).toBe(AUTH_LIMIT);
    expect(statuses.slice(AUTH_LIMIT).every((s) => s === 429)).toBe(true);
    figures.rate_limit_shared = { limit_per_minute: AUTH_LIMIT, attempts: statuses.length, allowed: passed, replicas: replicas.size };
  });

  it('job claims are never doubled: 8 agents long-polling through the proxy, 120 jobs', async () => {
    const token = await t.enrollmentToken(8);
    const agents: { id: string; secret: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const enrolled = await api.must(201, 'POST', '/api/v1/agents/enroll', {
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': nextClientAddress() },
        body: { name: `claimer-${i}`, cluster_name: 'cluster', version: '0.0.0', capabilities: ['file'] },
      });
      agents.push({ id: enrolled.json.agent.id, secret: enrolled.json.agent_secret });
    }
    for (const a of agents) await api.must(204, 'POST', `/api/v1/agents/${a.id}/heartbeat`, { headers: { 'x-agent-secret': a.secret }, body: { capabilities: ['file'] } });
    const JOBS = 120;
    const created: string[] = [];
    const claims = new Map<string, string[]>();
    let done = false;
    const loop = async (a: { id: string; secret: string }) => {
      while (!done) {
        const res = await api.call('POST', `/api/v1/agents/${a.id}/jobs/claim`, { headers: { 'x-agent-secret': a.secret }, body: { wait_seconds: 1 } });
        if (res.status === 204) continue;
        if (res.status !== 200) throw new Error(`claim → ${res.status} ${JSON.stringify(res.json)}`);
        const job = res.json;
        claims.set(job.id, [...(claims.get(job.id) ?? []), `${a.id}@${res.replica}`]);
        await api.must(204, 'POST', `/api/v1/agents/${a.id}/jobs/${job.id}/complete`, { headers: { 'x-agent-secret': a.secret }, body: { lease_token: job.lease_token, status: 'succeeded', result: {} } });
      }
    };
    const loops = [...agents, ...agents].map((a) => loop(a));
    for (let i = 0; i < JOBS; i++) {
      created.push((await api.must(201, 'POST', '/api/v1/jobs', { token: t.owner, body: { type: 'discovery.run', capability: 'file', workspace_id: t.workspaceId } })).json.id);
    }
    await until('every job claimed', 60_000, () => created.every((id) => claims.has(id)), 200);
    done = true;
    await Promise.all(loops);
    const doubled = [...claims.entries()].filter(([, by]) => by.length > 1);
    const byReplica: Record<string, number> = {};
    for (const by of claims.values()) for (const b of by) byReplica[b.split('@')[1]] = (byReplica[b.split('@')[1]] ?? 0) + 1;
    expect(doubled).toEqual([]);
    expect(Object.keys(byReplica).length).toBe(3);
    const rows = await cluster.database.query<{ status: string; attempts: number; n: number }>(`SELECT status, attempt, count(*)::int AS n FROM jobs WHERE id = ANY($1) GROUP BY 1, 2`, [created]);
    expect(rows).toEqual([{ status: 'succeeded', attempt: 1, n: JOBS }]);
    figures.claims = { agents: agents.length, pollers: agents.length * 2, jobs: JOBS, doubled_claims: doubled.length, claims_by_replica: byReplica };
  });

  /** Per replica, `task → success/skipped/failure` runs so far. */
  async function runsOf(r: Replica): Promise<Record<string, Record<string, number>>> {
    return backgroundRuns((await r.get<string>('/metrics')).text);
  }

  /** Which replica holds advisory lock `key` now (its PostgreSQL session's application_name), if any. */
  async function holderOf(key: number): Promise<string | undefined> {
    const rows = await cluster.database.query<{ app: string }>(
      `SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1 AND l.classid = 0`,
      [key],
    );
    return rows[0]?.app;
  }

  /**
   * Freezes task `task`'s work on whichever replica runs it next (`block` holds what the work needs), checks the
   * others are refused meanwhile (their runs are `skipped`, none `success`), kills that replica with -9, releases the
   * block, and measures the seconds until a surviving replica completes a run.
   */
  async function takeover(task: string, key: number, block: string, intervalMs: number): Promise<{ holder: string; takeover_seconds: number; refused_runs_elsewhere: number }> {
    const blocker = new Client({ connectionString: cluster.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(block);
      const holder = await until(`${task}: a replica holds its lock`, 10_000, () => holderOf(key), 20);
      const survivors = cluster.live().filter((r) => r.name !== holder);
      const before = await Promise.all(survivors.map(runsOf));
      await sleep(Math.max(1200, intervalMs * 1.3 + 500)); // more than one of their intervals
      const during = await Promise.all(survivors.map(runsOf));
      const delta = (outcome: string) => survivors.reduce((n, _, i) => n + ((during[i][task]?.[outcome] ?? 0) - (before[i][task]?.[outcome] ?? 0)), 0);
      expect(await holderOf(key)).toBe(holder); // still the same replica: nobody else ran it meanwhile
      expect({ task, success: delta('success') }).toEqual({ task, success: 0 });
      expect({ task, skipped: delta('skipped') > 0 }).toEqual({ task, skipped: true });
      const killedAt = Date.now();
      await cluster.replica(holder).kill();
      await blocker.query('COMMIT');
      const successes = (runs: Record<string, Record<string, number>>[]) => runs.reduce((n, r) => n + (r[task]?.success ?? 0), 0);
      const baseline = successes(during);
      await until(`${task} taken over after ${holder} died`, 30_000, async () => successes(await Promise.all(survivors.map(runsOf))) > baseline, 50);
      const seconds = (Date.now() - killedAt) / 1000;
      await cluster.restartReplica(cluster.replica(holder));
      return { holder, takeover_seconds: seconds, refused_runs_elsewhere: delta('skipped') };
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end().catch(() => undefined);
    }
  }

  it('each locked background task runs on one replica at a time and is taken over when that replica is killed', async () => {
    const health = await cluster.replicas[0].get<{ background: { task: string; interval_ms: number }[] }>('/api/v1/health');
    const tasks = Object.fromEntries(health.json.background.map((b) => [b.task, b.interval_ms]));
    expect(Object.keys(tasks).sort()).toEqual(['agent-offline-notifier', 'audit-sealer', 'idempotency-sweeper', 'job-lease-sweeper', 'request-expiry', 'webhook-dispatcher']);
    const results: Record<string, unknown> = {};
    const cases: [string, number, string][] = [
      // The sealer waits for the audit chain's transaction lock; the others for their table.
      ['audit-sealer', LOCKS.auditSealer, `SELECT pg_advisory_xact_lock(${LOCKS.auditChainWrite})`],
      ['job-lease-sweeper', LOCKS.jobSweeper, 'LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE'],
      ['request-expiry', LOCKS.requestExpiry, 'LOCK TABLE requests IN ACCESS EXCLUSIVE MODE'],
      ['idempotency-sweeper', LOCKS.idempotencySweeper, 'LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE'],
      ['agent-offline-notifier', LOCKS.agentOfflineNotifier, 'LOCK TABLE agents IN ACCESS EXCLUSIVE MODE'],
    ];
    for (const [task, key, block] of cases) {
      const r = await takeover(task, key, block, tasks[task]);
      const intervalSeconds = tasks[task] / 1000;
      // Taken over within its interval (plus the survivors' scrape and a busy machine's slack).
      expect(r.takeover_seconds).toBeLessThanOrEqual(intervalSeconds + 2);
      results[task] = { ...r, interval_seconds: intervalSeconds };
    }
    figures.takeover = results;
    process.stdout.write(`cluster: takeover seconds ${Object.entries(results).map(([k, v]) => `${k} ${(v as { takeover_seconds: number }).takeover_seconds.toFixed(2)} s`).join(', ')}\n`);
  });

  it('lets every replica report its background tasks in /api/v1/health', async () => {
    for (const r of cluster.live()) {
      const h = await r.get<{ background: { task: string; status: string }[] }>('/api/v1/health');
      expect(h.status).toBe(200);
      for (const b of h.json.background) expect(['ok', 'standby', 'pending']).toContain(b.status);
    }
  });
});
