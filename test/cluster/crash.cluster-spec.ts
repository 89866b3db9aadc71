import * as fs from 'node:fs';
import * as path from 'node:path';
import { Api, CallResult, setupTenant, Tenant } from './harness/api';
import { Cluster } from './harness/cluster';
import { ClusterAgent } from './harness/nodes';
import { sleep, until } from './harness/processes';
import { report } from './harness/summary';

const LOAD_SECONDS = Number(process.env.CLUSTER_CRASH_SECONDS ?? 45);
const MIN_KILLS = 10;
const WORKERS = 4;
const AGENTS = 3;
const SECRETS = 4;
const FINAL = new Set(['completed', 'failed', 'rejected', 'cancelled', 'expired', 'rolled_back']);

const random = (n: number) => Math.floor(Math.random() * n);

/**
 * Issue 13, deliverable 3: under a mixed load (read requests created, approved, executed by reference agents, their
 * wraps revealed), kill -9 a random replica or a random agent at random moments (≥ 10 kills), restart them, then check
 * the database against what the clients were told.
 */
describe('crash suite', () => {
  let cluster: Cluster;
  let api: Api;
  let t: Tenant;
  let approver: string;
  const requesters: string[] = [];
  const agents: ClusterAgent[] = [];
  const figures: Record<string, unknown> = {};
  /** Client-side ledger: every id a 2xx acknowledged. */
  const ledger = { requests: new Set<string>(), approvals: new Set<string>(), reveals: new Map<string, number>() };
  const kills = { replica: 0, agent: 0 };
  let retriedMutations = 0;
  /** Set when the test ends (or fails): the workers and the chaos loop stop. */
  let stopped = false;
  /** Requests not final 30 s after their approval (the end checks say why). */
  const slow = new Set<string>();

  beforeAll(async () => {
    cluster = await Cluster.start({
      name: 'crash',
      env: {
        RATE_LIMIT_AUTH: '100000',
        RATE_LIMIT_DEFAULT: '1000000',
        RATE_LIMIT_AGENT: '1000000',
        AUDIT_SEAL_INTERVAL_MS: '250',
        JOB_SWEEP_INTERVAL_MS: '250',
        JOB_LEASE_SECONDS: '4',
        JOB_MAX_ATTEMPTS: '20',
        AGENT_OFFLINE_AFTER_SECONDS: '30',
      },
    });
    api = new Api(cluster.url);
    t = await setupTenant(api, cluster.secrets.SETUP_TOKEN, 'crash');
    approver = (await t.addUser('approver@crash.example', 'approver', 'tenant')).token;
    for (let i = 0; i < WORKERS; i++) requesters.push((await t.addUser(`user${i}@crash.example`, 'requester', 'workspace')).token);
    const secretsDir = path.join(cluster.tempDir, 'secrets');
    fs.mkdirSync(path.join(secretsDir, 'app'), { recursive: true });
    for (let i = 0; i < SECRETS; i++) fs.writeFileSync(path.join(secretsDir, 'app', `s${i}`), `value-${i}`, { mode: 0o600 });
    const token = await t.enrollmentToken(AGENTS);
    for (let i = 0; i < AGENTS; i++) {
      const agent = cluster.addAgent(`agent-${i}`, token, secretsDir);
      agent.start();
      await agent.enrolled();
      agents.push(agent);
    }
    await api.must(201, 'POST', '/api/v1/jobs', { token: t.owner, body: { type: 'discovery.run', capability: 'file', workspace_id: t.workspaceId } });
    await until('secrets discovered', 60_000, async () => ((await api.call('GET', '/api/v1/secrets?ref_prefix=app/&limit=50', { token: t.owner })).json?.data?.length ?? 0) === SECRETS, 300);
  });

  afterAll(async () => {
    stopped = true;
    if (!cluster) return;
    const { orphans } = await cluster.dispose();
    figures.orphans = orphans.length;
    report(cluster, 'crash', figures);
    expect(orphans).toEqual([]);
  });

  /** A mutation the way a careful client sends it: retried with the same Idempotency-Key until an answer arrives. */
  async function mutate(method: string, urlPath: string, token: string, body: unknown, key: string): Promise<CallResult> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await api.call(method, urlPath, { token, body, headers: { 'idempotency-key': key } }).catch(() => undefined);
      // 502 (replica died under it), a cut connection, 409 IDEMPOTENCY_KEY_IN_USE (the first try still runs): retry.
      if (res && !res.proxyError && !(res.status === 409 && res.json?.error?.code === 'IDEMPOTENCY_KEY_IN_USE')) return res;
      retriedMutations++;
      if (Date.now() > deadline) throw new Error(`${method} ${urlPath}: no answer within 60 s`);
      await sleep(200);
    }
  }

  /** The request once final, or null when it is not final within 30 s (then checked, with its jobs, at the end). */
  async function finalState(token: string, id: string): Promise<{ status: string } | null> {
    return until(`request ${id} final`, 30_000, async () => {
      if (stopped) return { status: 'stopped' };
      const r = await api.call('GET', `/api/v1/requests/${id}`, { token });
      return r.status === 200 && FINAL.has(r.json.status) ? r.json : undefined;
    }, 250).catch(() => {
      slow.add(id);
      return null;
    });
  }

  async function worker(i: number, deadline: number, secretIds: string[]): Promise<void> {
    const me = requesters[i];
    for (let n = 0; Date.now() < deadline && !stopped; n++) {
      const created = await mutate('POST', '/api/v1/requests/read', me, { secret_id: secretIds[(i + n) % secretIds.length], reason: 'crash suite' }, `create-${i}-${n}-${cluster.runId}`);
      if (created.status !== 201) throw new Error(`create → ${created.status} ${JSON.stringify(created.json)}`);
      ledger.requests.add(created.json.id);
      const approved = await mutate('POST', `/api/v1/requests/${created.json.id}/approve`, approver, { comment: 'ok' }, `approve-${created.json.id}`);
      if (approved.status !== 200) throw new Error(`approve → ${approved.status} ${JSON.stringify(approved.json)}`);
      ledger.approvals.add(created.json.id);
      const done = await finalState(me, created.json.id);
      if (done?.status !== 'completed') continue;
      const wraps = await api.must(200, 'GET', `/api/v1/requests/${created.json.id}/wraps`, { token: me });
      for (const w of wraps.json.data as { id: string }[]) {
        const reveal = await api.call('GET', `/api/v1/requests/${created.json.id}/wraps/${w.id}`, { token: me });
        if (reveal.status === 200) ledger.reveals.set(w.id, (ledger.reveals.get(w.id) ?? 0) + 1);
        // A second reveal must be refused (410), on whichever replica it lands.
        const again = await api.call('GET', `/api/v1/requests/${created.json.id}/wraps/${w.id}`, { token: me });
        if (again.status === 200) ledger.reveals.set(w.id, (ledger.reveals.get(w.id) ?? 0) + 1);
      }
    }
  }

  /** kill -9 of a random replica (never the last live one) or agent at random moments; each is restarted soon after. */
  async function chaos(deadline: number): Promise<string[]> {
    const log: string[] = [];
    const restarts: Promise<void>[] = [];
    while (Date.now() < deadline && !stopped) {
      await sleep(2000 + random(2500));
      if (Date.now() >= deadline) break;
      if (random(2) === 0) {
        const live = cluster.live();
        if (live.length < 2) continue; // never the last one; a replica still starting is not killed again
        const victim = live[random(live.length)];
        await victim.kill();
        kills.replica++;
        log.push(`${((Date.now() - deadline) / 1000 + LOAD_SECONDS).toFixed(1)}s kill -9 ${victim.name}`);
        restarts.push(sleep(500 + random(2000)).then(() => cluster.restartReplica(victim)));
      } else {
        const live = agents.filter((a) => a.running);
        if (live.length < 2) continue;
        const victim = live[random(live.length)];
        await victim.kill();
        kills.agent++;
        log.push(`${((Date.now() - deadline) / 1000 + LOAD_SECONDS).toFixed(1)}s kill -9 ${victim.name}`);
        restarts.push(sleep(500 + random(1500)).then(() => victim.start()));
      }
    }
    await Promise.all(restarts);
    return log;
  }

  it(`keeps every acknowledged write, executes each job once and reveals each wrap once through ≥ ${MIN_KILLS} kill -9`, async () => {
    const secretIds = ((await api.must(200, 'GET', '/api/v1/secrets?ref_prefix=app/&limit=50', { token: t.owner })).json.data as { id: string }[]).map((s) => s.id);
    const started = Date.now();
    let deadline = started + LOAD_SECONDS * 1000;
    const load = Promise.all(requesters.map((_, i) => worker(i, deadline, secretIds)));
    load.catch(() => (stopped = true));
    let killLog = await chaos(deadline);
    // Not enough kills yet (a slow machine): go on until there are.
    while (kills.replica + kills.agent < MIN_KILLS && !stopped) {
      deadline = Date.now() + 5000;
      killLog = killLog.concat(await chaos(deadline));
    }
    await load;
    const loadSeconds = (Date.now() - started) / 1000;
    for (const r of cluster.replicas) if (!r.running) await cluster.restartReplica(r);
    for (const a of agents) if (!a.running) a.start();

    // Every figure is gathered first and the checks run at the end, so a failing run still reports its figures.
    const checks: (() => void)[] = [];
    const db = cluster.database;
    // Executing requests must have a job that is queued or leased (a lease that will run out and be swept).
    const orphanedExecuting = await db.query<{ id: string }>(
      `SELECT r.id FROM requests r WHERE r.status = 'executing'
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.owner_type = 'request' AND j.owner_id = r.id AND j.status IN ('queued', 'leased'))`,
    );
    checks.push(() => expect(orphanedExecuting).toEqual([]));
    // Then, after leases run out and the sweeper requeues, every request ends.
    const notFinal = `SELECT r.id, r.status, j.id AS job_id, j.status AS job_status, j.attempt, j.agent_id, j.lease_expires_at, j.created_at AS job_created_at
                        FROM requests r LEFT JOIN jobs j ON j.owner_type = 'request' AND j.owner_id = r.id
                       WHERE r.status NOT IN (${[...FINAL].map((s) => `'${s}'`).join(',')})`;
    const stuck = await until('every request final', 60_000, async () => {
      const rows = await db.query(notFinal);
      return rows.length === 0 ? [] : undefined;
    }, 500).catch(async () => db.query(notFinal));
    figures.requests_not_final = stuck.length;
    figures.requests_slow_during_load = slow.size;
    // A job leased to an agent that restarted stays leased while that agent heartbeats (heartbeats extend every lease
    // of the agent): listed here with its lease, so the failure says which.
    checks.push(() => expect(stuck).toEqual([]));

    // Every acknowledged request and approval is in the database.
    const ids = [...ledger.requests];
    const foundRequests = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE id = ANY($1)`, [ids]))[0].n;
    const approvedIds = [...ledger.approvals];
    const foundApprovals = (await db.query<{ n: number }>(`SELECT count(DISTINCT request_id)::int AS n FROM approvals WHERE request_id = ANY($1) AND decision = 'approved'`, [approvedIds]))[0].n;
    checks.push(() => expect(foundRequests).toBe(ids.length));
    checks.push(() => expect(foundApprovals).toBe(approvedIds.length));

    // Jobs: each completed once; re-deliveries (claims after a lease ran out) counted.
    const jobs = await db.query<{ id: string; status: string; attempt: number }>(`SELECT id, status, attempt FROM jobs WHERE owner_type = 'request' AND owner_id = ANY($1)`, [ids]);
    const completions = new Map<string, number>();
    for (const a of agents) for (const l of a.logs) if (l.msg === 'job completed' && typeof l.job_id === 'string') completions.set(l.job_id, (completions.get(l.job_id) ?? 0) + 1);
    const duplicateExecutions = [...completions.values()].filter((n) => n > 1).length;
    const redeliveries = jobs.reduce((n, j) => n + Math.max(0, j.attempt - 1), 0);
    const jobStates: Record<string, number> = {};
    for (const j of jobs) jobStates[j.status] = (jobStates[j.status] ?? 0) + 1;
    checks.push(() => expect(duplicateExecutions).toBe(0));
    const requestStates = Object.fromEntries((await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM requests WHERE id = ANY($1) GROUP BY 1`, [ids])).map((r) => [r.status, r.n]));

    // Wraps: revealed at most once (clients' view and the audit trail), never two read wraps per request.
    const twiceRevealed = [...ledger.reveals.values()].filter((n) => n > 1).length;
    const revealEvents = await db.query<{ resource_id: string; n: number }>(`SELECT resource_id, count(*)::int AS n FROM audit_events WHERE action = 'wrap.revealed' GROUP BY 1 HAVING count(*) > 1`);
    const wrapsPerRequest = await db.query<{ request_id: string; n: number }>(`SELECT request_id, count(*)::int AS n FROM wraps WHERE kind = 'read' AND request_id = ANY($1) GROUP BY 1 HAVING count(*) > 1`, [ids]);
    checks.push(() => expect(twiceRevealed).toBe(0));
    checks.push(() => expect(revealEvents).toEqual([]));
    checks.push(() => expect(wrapsPerRequest).toEqual([]));

    // Audit: verify green in both tenants with every event sealed once the sealer catches up.
    const verify = async (token: string) => (await api.must(200, 'GET', '/api/v1/audit-events/verify', { token })).json as { verified: boolean; unsealed: number; checked: number };
    const owner = await until('tenant audit chain sealed', 30_000, async () => {
      const v = await verify(t.owner);
      return v.verified && v.unsealed === 0 ? v : undefined;
    }, 500);
    const admin = await until('default tenant audit chain sealed', 30_000, async () => {
      const v = await verify(t.admin);
      return v.verified && v.unsealed === 0 ? v : undefined;
    }, 500);
    const unsealed = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events e WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)`))[0].n;
    checks.push(() => expect(unsealed).toBe(0));

    checks.push(() => expect(api.stats.appServerErrors).toEqual([]));
    checks.push(() => expect(kills.replica + kills.agent).toBeGreaterThanOrEqual(MIN_KILLS));
    Object.assign(figures, {
      load_seconds: Number(loadSeconds.toFixed(1)),
      workers: WORKERS,
      agents: AGENTS,
      requests_sent: api.stats.sent,
      answers_by_status: api.stats.byStatus,
      replica_5xx: api.stats.appServerErrors.length,
      unknown_outcomes_retried: retriedMutations,
      kills: { ...kills, total: kills.replica + kills.agent, log: killLog },
      acknowledged_writes: { requests: ids.length, approvals: approvedIds.length, total: ids.length + approvedIds.length },
      found_writes: { requests: foundRequests, approvals: foundApprovals, total: foundRequests + foundApprovals },
      request_states: requestStates,
      jobs: { total: jobs.length, states: jobStates, completions_logged: [...completions.values()].reduce((a, b) => a + b, 0), duplicate_executions: duplicateExecutions, redeliveries },
      wraps: { revealed: ledger.reveals.size, revealed_twice: twiceRevealed },
      audit: { tenant_events_checked: owner.checked, default_tenant_events_checked: admin.checked, verified: owner.verified && admin.verified, unsealed },
      replica_error_log_lines: cluster.replicas.reduce((n, r) => n + r.errorLines.length, 0),
    });
    for (const check of checks) check();
  });
});
