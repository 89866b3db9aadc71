import * as fs from 'node:fs';
import * as path from 'node:path';
import { Api, CallResult, setupTenant, Tenant } from './harness/api';
import { Cluster } from './harness/cluster';
import { Replica } from './harness/nodes';
import { sleep, until } from './harness/processes';
import { report } from './harness/summary';

/** Shorter than the defaults (5000) so the suite stays short; the bounds below are derived from them. */
const STATEMENT_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;
/** How long the database is away in each mode. */
const OUTAGE_MS = Number(process.env.CLUSTER_OUTAGE_SECONDS ?? 10) * 1000;
/**
 * Every request that meets the outage is answered within the statement timeout, plus the second the client grants the
 * server to cancel it (QUERY_TIMEOUT_GRACE_MS of src/common/db/bounded-client.ts: a frozen server cancels nothing), plus
 * this margin (proxy, event loop of a loaded 2-core machine).
 */
const QUERY_TIMEOUT_GRACE_MS = 1000;
const LATENCY_MARGIN_MS = 1000;
const LATENCY_BOUND_MS = Math.max(STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_GRACE_MS, CONNECT_TIMEOUT_MS) + LATENCY_MARGIN_MS;
/** The service must be back on every replica this long after the database is. */
const RECOVERY_BOUND_MS = 5000;
/** /readyz may still answer 200 this long after the database went away (its check times out after 1.5 s; a poll in flight). */
const READINESS_GRACE_MS = 2500;
const WORKERS = 4;
const AGENTS = 2;
const SECRETS = 3;

type Mode = 'freeze' | 'stop';

/** One answer a load client got, with its timing (ms since the epoch). */
interface Timed {
  method: string;
  path: string;
  t0: number;
  t1: number;
  status: number;
  code?: string;
  envelope: boolean;
  replica: string | null;
  /** No answer at all (network error or the client's own timeout). */
  failed?: string;
}

interface Probe {
  replica: string;
  path: '/readyz' | '/livez';
  t0: number;
  t1: number;
  status: number;
}

interface Window {
  mode: Mode;
  down: number;
  /** SIGCONT / the start command: the server may answer from here on. */
  restarting: number;
  /** PostgreSQL accepts connections again (SIGCONT sent / the restarted server answered its supervisor). */
  back: number;
}

/**
 * Issue 13, deliverable 4: PostgreSQL goes away for 10 s under load, twice: frozen (SIGSTOP: connections stay open and
 * hang, only the app's own timeouts can end a request) and stopped then started (connections refused and reset). The
 * API must answer 503 STORAGE_UNAVAILABLE within its timeouts, never 500, keep /livez up and /readyz down meanwhile,
 * come back without a restart, and the database must hold every acknowledged write and no half-written transition.
 */
describe('database outage suite', () => {
  let cluster: Cluster;
  let api: Api;
  let t: Tenant;
  let approver: string;
  const requesters: string[] = [];
  const figures: Record<string, unknown> = {};
  const calls: Timed[] = [];
  const probes: Probe[] = [];
  /** Client-side ledger: ids a 2xx acknowledged. */
  const ledger = { requests: new Set<string>(), approvals: new Set<string>() };
  let retried = 0;
  let stopped = false;

  beforeAll(async () => {
    cluster = await Cluster.start({
      name: 'db-outage',
      env: {
        RATE_LIMIT_AUTH: '100000',
        RATE_LIMIT_DEFAULT: '1000000',
        RATE_LIMIT_AGENT: '1000000',
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        AUDIT_SEAL_INTERVAL_MS: '500',
        JOB_SWEEP_INTERVAL_MS: '500',
        JOB_LEASE_SECONDS: '6',
        JOB_MAX_ATTEMPTS: '20',
        AGENT_OFFLINE_AFTER_SECONDS: '60',
      },
    });
    api = new Api(cluster.url);
    t = await setupTenant(api, cluster.secrets.SETUP_TOKEN, 'outage');
    approver = (await t.addUser('approver@outage.example', 'approver', 'tenant')).token;
    for (let i = 0; i < WORKERS; i++) requesters.push((await t.addUser(`user${i}@outage.example`, 'requester', 'workspace')).token);
    const secretsDir = path.join(cluster.tempDir, 'secrets');
    fs.mkdirSync(path.join(secretsDir, 'app'), { recursive: true });
    for (let i = 0; i < SECRETS; i++) fs.writeFileSync(path.join(secretsDir, 'app', `s${i}`), `value-${i}`, { mode: 0o600 });
    const token = await t.enrollmentToken(AGENTS);
    for (let i = 0; i < AGENTS; i++) {
      const agent = cluster.addAgent(`agent-${i}`, token, secretsDir);
      agent.start();
      await agent.enrolled();
    }
    await api.must(201, 'POST', '/api/v1/jobs', { token: t.owner, body: { type: 'discovery.run', capability: 'file', workspace_id: t.workspaceId } });
    await until('secrets discovered', 60_000, async () => ((await api.call('GET', '/api/v1/secrets?ref_prefix=app/&limit=50', { token: t.owner })).json?.data?.length ?? 0) === SECRETS, 300);
  });

  afterAll(async () => {
    stopped = true;
    if (!cluster) return;
    const { orphans } = await cluster.dispose();
    figures.orphans = orphans.length;
    report(cluster, 'db-outage', figures);
    expect(orphans).toEqual([]);
  });

  /** One call through the proxy, timed; never throws (a missing answer is recorded as such). */
  async function timed(method: string, urlPath: string, token: string, body?: unknown, key?: string): Promise<Timed & { res?: CallResult }> {
    const t0 = Date.now();
    try {
      const res = await api.call(method, urlPath, { token, body, headers: key ? { 'idempotency-key': key } : {}, timeoutMs: 20_000 });
      const error = res.json?.error as { code?: unknown; message?: unknown; request_id?: unknown } | undefined;
      const envelope = !!error && typeof error.code === 'string' && typeof error.message === 'string' && 'request_id' in error;
      const entry: Timed = { method, path: urlPath, t0, t1: Date.now(), status: res.status, code: typeof error?.code === 'string' ? error.code : undefined, envelope, replica: res.replica };
      calls.push(entry);
      return { ...entry, res };
    } catch (error) {
      const entry: Timed = { method, path: urlPath, t0, t1: Date.now(), status: 0, envelope: false, replica: null, failed: (error as Error).message };
      calls.push(entry);
      return entry;
    }
  }

  /** A mutation the way a careful client sends it: retried with the same Idempotency-Key until a final answer. */
  async function mutate(method: string, urlPath: string, token: string, body: unknown, key: string): Promise<CallResult> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = await timed(method, urlPath, token, body, key);
      const retry = !r.res || r.res.proxyError || r.status === 503 || (r.status === 409 && r.code === 'IDEMPOTENCY_KEY_IN_USE');
      if (!retry && r.res) return r.res;
      retried++;
      if (Date.now() > deadline || stopped) throw new Error(`${method} ${urlPath}: no final answer within 90 s (last ${r.status} ${r.code ?? r.failed ?? ''})`);
      await sleep(250);
    }
  }

  /** What the replicas logged about an unexpected answer (its request id), for the failure message. */
  function serverLines(res: CallResult): string {
    const id = (res.json?.error as { request_id?: unknown } | undefined)?.request_id;
    if (typeof id !== 'string') return '';
    const lines = cluster.replicas.flatMap((r) => (r.process?.lines ?? []).filter((l) => l.includes(id)));
    return `\nreplica log lines of ${id}:\n${lines.join('\n')}`;
  }

  /** Creates read requests, approves them, reads them back and lists, until told to stop. */
  async function worker(i: number, secretIds: string[], running: () => boolean): Promise<void> {
    const me = requesters[i];
    for (let n = 0; running() && !stopped; n++) {
      const key = `outage-create-${i}-${n}-${cluster.runId}`;
      // The key is in the reason too: two requests with one reason would be a retry applied twice.
      const created = await mutate('POST', '/api/v1/requests/read', me, { secret_id: secretIds[(i + n) % secretIds.length], reason: key }, key);
      if (created.status !== 201) throw new Error(`create → ${created.status} ${JSON.stringify(created.json)}${serverLines(created)}`);
      ledger.requests.add(created.json.id);
      await timed('GET', `/api/v1/requests/${created.json.id}`, me);
      const approved = await mutate('POST', `/api/v1/requests/${created.json.id}/approve`, approver, { comment: 'ok' }, `outage-approve-${created.json.id}`);
      if (approved.status !== 200) throw new Error(`approve → ${approved.status} ${JSON.stringify(approved.json)}${serverLines(approved)}`);
      ledger.approvals.add(created.json.id);
      await timed('GET', '/api/v1/requests?limit=20', me);
      await timed('GET', `/api/v1/requests/${created.json.id}`, me);
    }
  }

  /** Polls /readyz and /livez of every replica directly (not through the proxy) until told to stop. */
  async function pollProbes(running: () => boolean): Promise<void> {
    const one = async (r: Replica, p: '/readyz' | '/livez') => {
      const t0 = Date.now();
      let status: number;
      try {
        const res = await fetch(`${r.url}${p}`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0; // no answer within 10 s (or refused): counted as not 200/503
      }
      probes.push({ replica: r.name, path: p, t0, t1: Date.now(), status });
    };
    while (running() && !stopped) {
      await Promise.all(cluster.replicas.flatMap((r) => [one(r, '/readyz'), one(r, '/livez')]));
      await sleep(250);
    }
  }

  /** Seconds from `since` to the first 2xx of an authenticated read on each replica (directly), and of its /readyz. */
  async function recovery(since: number): Promise<Record<string, { api_s: number; readyz_s: number }>> {
    const out: Record<string, { api_s: number; readyz_s: number }> = {};
    await Promise.all(
      cluster.replicas.map(async (r) => {
        const first = async (probe: () => Promise<number>) =>
          until(`${r.name} serving again`, 60_000, async () => {
            const status = await probe().catch(() => 0);
            return status >= 200 && status < 300 ? Date.now() : undefined;
          }, 100);
        const [apiAt, readyAt] = await Promise.all([
          first(async () => (await fetch(`${r.url}/api/v1/requests?limit=1`, { headers: { authorization: `Bearer ${t.owner}` }, signal: AbortSignal.timeout(10_000) })).status),
          first(async () => (await fetch(`${r.url}/readyz`, { signal: AbortSignal.timeout(10_000) })).status),
        ]);
        out[r.name] = { api_s: Number(((apiAt - since) / 1000).toFixed(2)), readyz_s: Number(((readyAt - since) / 1000).toFixed(2)) };
      }),
    );
    return out;
  }

  /** Runs the load, takes the database away for OUTAGE_MS in `mode`, brings it back, measures recovery, stops the load. */
  async function outage(mode: Mode, secretIds: string[]): Promise<{ window: Window; recovered: Record<string, { api_s: number; readyz_s: number }> }> {
    let loadOn = true;
    const load = Promise.all(requesters.map((_, i) => worker(i, secretIds, () => loadOn)));
    load.catch(() => (stopped = true));
    let probing = true;
    const probing$ = pollProbes(() => probing);
    await sleep(4000);
    const db = cluster.database;
    const down = Date.now();
    if (mode === 'freeze') db.pause();
    else await db.stop();
    await sleep(Math.max(0, down + OUTAGE_MS - Date.now()));
    const restarting = Date.now();
    if (mode === 'freeze') db.resume();
    else await db.start();
    const back = Date.now();
    const recovered = await recovery(back);
    probing = false;
    await sleep(4000);
    loadOn = false;
    await Promise.all([load, probing$]);
    return { window: { mode, down, restarting, back }, recovered };
  }

  /** What the clients saw while the database was away in `w` (a call counts when it overlapped the window). */
  function during(w: Window) {
    const inWindow = calls.filter((c) => c.t1 >= w.down && c.t0 <= w.back);
    const byStatus: Record<string, number> = {};
    for (const c of inWindow) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
    const latencies = inWindow.map((c) => c.t1 - c.t0);
    // Probes answered while the server could not answer (a restarted one accepts connections before its start command returns).
    const answered = probes.filter((p) => p.t0 >= w.down && p.t1 <= w.restarting);
    const readyAfterGrace = answered.filter((p) => p.path === '/readyz' && p.t0 >= w.down + READINESS_GRACE_MS);
    const livez = answered.filter((p) => p.path === '/livez');
    return {
      calls: inWindow.length,
      by_status: byStatus,
      storage_unavailable: inWindow.filter((c) => c.status === 503 && c.code === 'STORAGE_UNAVAILABLE' && c.envelope).length,
      other_5xx: inWindow.filter((c) => c.status >= 500 && !(c.status === 503 && c.code === 'STORAGE_UNAVAILABLE' && c.envelope)),
      no_answer: inWindow.filter((c) => c.failed),
      max_latency_ms: Math.max(0, ...latencies),
      over_bound: inWindow.filter((c) => c.t1 - c.t0 > LATENCY_BOUND_MS).map((c) => `${c.method} ${c.path} ${c.t1 - c.t0} ms → ${c.status} ${c.code ?? ''}`),
      readyz: { polls: readyAfterGrace.length, not_503: readyAfterGrace.filter((p) => p.status !== 503).map((p) => `${p.replica} ${p.status} at +${p.t0 - w.down} ms`) },
      livez: { polls: livez.length, not_200: livez.filter((p) => p.status !== 200).map((p) => `${p.replica} ${p.status} at +${p.t0 - w.down} ms`) },
      max_probe_ms: Math.max(0, ...answered.map((p) => p.t1 - p.t0)),
    };
  }

  it(`answers 503 STORAGE_UNAVAILABLE within ${LATENCY_BOUND_MS} ms while PostgreSQL is frozen, then stopped, and is back within ${RECOVERY_BOUND_MS / 1000} s with nothing lost or half-written`, async () => {
    const secretIds = ((await api.must(200, 'GET', '/api/v1/secrets?ref_prefix=app/&limit=50', { token: t.owner })).json.data as { id: string }[]).map((s) => s.id);
    const pids = Object.fromEntries(cluster.replicas.map((r) => [r.name, r.pid]));
    const starts = cluster.replicas.reduce((n, r) => n + r.starts, 0);
    const checks: (() => void)[] = [];
    const modes: Record<string, unknown> = {};

    for (const mode of ['freeze', 'stop'] as const) {
      const { window, recovered } = await outage(mode, secretIds);
      const seen = during(window);
      // After recovery: nothing but 2xx/4xx (a 503 then is a replica that did not come back).
      const after = calls.filter((c) => c.t0 > window.back + RECOVERY_BOUND_MS && c.t0 < window.back + RECOVERY_BOUND_MS + 4000);
      const afterFailures = after.filter((c) => c.status >= 500 || c.failed).map((c) => `${c.method} ${c.path} → ${c.status} ${c.code ?? c.failed ?? ''}`);
      modes[mode] = {
        outage_s: Number(((window.back - window.down) / 1000).toFixed(1)),
        database_restart_s: Number(((window.back - window.restarting) / 1000).toFixed(2)),
        calls_during: seen.calls,
        by_status_during: seen.by_status,
        storage_unavailable_503: seen.storage_unavailable,
        other_5xx: seen.other_5xx.length,
        no_answer: seen.no_answer.length,
        max_latency_ms: seen.max_latency_ms,
        over_bound: seen.over_bound.length,
        readyz_polls_during: seen.readyz.polls,
        livez_polls_during: seen.livez.polls,
        max_probe_ms: seen.max_probe_ms,
        recovery_s: recovered,
        calls_after_recovery: after.length,
        failures_after_recovery: afterFailures.length,
      };
      checks.push(() => expect({ mode, other5xx: seen.other_5xx, noAnswer: seen.no_answer }).toEqual({ mode, other5xx: [], noAnswer: [] }));
      checks.push(() => expect({ mode, overBound: seen.over_bound }).toEqual({ mode, overBound: [] }));
      checks.push(() => expect(seen.storage_unavailable).toBeGreaterThan(0));
      checks.push(() => expect({ mode, readyzNot503: seen.readyz.not_503, livezNot200: seen.livez.not_200 }).toEqual({ mode, readyzNot503: [], livezNot200: [] }));
      checks.push(() => expect(seen.readyz.polls).toBeGreaterThan(0));
      checks.push(() => expect(seen.livez.polls).toBeGreaterThan(0));
      for (const [name, r] of Object.entries(recovered)) {
        checks.push(() => expect({ mode, name, ...r, within: r.api_s <= RECOVERY_BOUND_MS / 1000 && r.readyz_s <= RECOVERY_BOUND_MS / 1000 }).toMatchObject({ within: true }));
      }
      checks.push(() => expect({ mode, afterFailures }).toEqual({ mode, afterFailures: [] }));
    }
    if (stopped) throw new Error('the load stopped early (see the first error above)');

    // The same processes served throughout: no restart of an API process.
    const pidsAfter = Object.fromEntries(cluster.replicas.map((r) => [r.name, r.pid]));
    checks.push(() => expect(pidsAfter).toEqual(pids));
    checks.push(() => expect(cluster.replicas.reduce((n, r) => n + r.starts, 0)).toBe(starts));

    // Let the agents finish what was approved, so every request is checked in a resting state.
    const db = cluster.database;
    const ids = [...ledger.requests];
    await until('approved requests executed', 60_000, async () => {
      const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE id = ANY($1) AND status IN ('approved', 'executing')`, [ids]);
      return rows[0].n === 0;
    }, 500).catch(() => undefined);

    // No lost acknowledged write.
    const foundRequests = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE id = ANY($1)`, [ids]))[0].n;
    const approvedIds = [...ledger.approvals];
    const foundApprovals = (await db.query<{ n: number }>(`SELECT count(DISTINCT request_id)::int AS n FROM approvals WHERE request_id = ANY($1) AND decision = 'approved'`, [approvedIds]))[0].n;
    checks.push(() => expect({ requests: foundRequests, approvals: foundApprovals }).toEqual({ requests: ids.length, approvals: approvedIds.length }));

    // Nothing doubled: one request per Idempotency-Key (the key is the reason), one approval per request and approver.
    const doubledRequests = await db.query(`SELECT reason, count(*)::int AS n FROM requests WHERE reason LIKE 'outage-create-%' GROUP BY reason HAVING count(*) > 1`);
    const doubledApprovals = await db.query(`SELECT request_id, approver_id, count(*)::int AS n FROM approvals GROUP BY 1, 2 HAVING count(*) > 1`);
    checks.push(() => expect({ doubledRequests, doubledApprovals }).toEqual({ doubledRequests: [], doubledApprovals: [] }));

    // No half-written transition: each request's status agrees with its approvals, its job, its wrap and its audit trail.
    const inconsistent = await db.query<{ id: string; status: string; problem: string }>(
      `SELECT r.id, r.status, p.problem, j.status AS job_status, j.attempt, c.wraps, r.completed_at, j.result->>'wrap_id' AS result_wrap_id,
              (SELECT array_agg(e.action ORDER BY e.occurred_at) FROM audit_events e WHERE e.resource_id IN (r.id, j.id)) AS events
         FROM requests r
         LEFT JOIN jobs j ON j.id = r.job_id
         CROSS JOIN LATERAL (
           SELECT (SELECT count(*) FROM approvals a WHERE a.request_id = r.id AND a.decision = 'approved')::int AS approvals,
                  (SELECT count(*) FROM wraps w WHERE w.request_id = r.id AND w.kind = 'read')::int AS wraps,
                  (SELECT count(*) FROM audit_events e WHERE e.resource_id = r.id AND e.action = 'request.approved')::int AS approved_events,
                  (SELECT count(*) FROM jobs o WHERE o.owner_type = 'request' AND o.owner_id = r.id)::int AS owned_jobs
         ) c
         CROSS JOIN LATERAL (VALUES
           (CASE WHEN r.status = 'pending_approval' AND c.approvals > 0 THEN 'pending_approval with an approval (one approver decides)' END),
           (CASE WHEN r.status = 'pending_approval' AND (r.job_id IS NOT NULL OR c.owned_jobs > 0) THEN 'pending_approval with a job' END),
           (CASE WHEN r.status IN ('approved', 'executing', 'completed', 'failed') AND c.approvals <> 1 THEN 'decided without exactly one approval' END),
           (CASE WHEN r.status IN ('approved', 'executing', 'completed', 'failed') AND c.approved_events <> 1 THEN 'decided without exactly one request.approved event' END),
           (CASE WHEN r.status IN ('approved', 'executing', 'completed', 'failed') AND r.decided_at IS NULL THEN 'decided without decided_at' END),
           (CASE WHEN r.status IN ('executing', 'completed', 'failed') AND j.id IS NULL THEN 'executed without its job' END),
           (CASE WHEN c.owned_jobs <> (CASE WHEN r.job_id IS NULL THEN 0 ELSE 1 END) THEN 'jobs owned by the request do not match job_id' END),
           (CASE WHEN j.id IS NOT NULL AND (j.owner_type IS DISTINCT FROM 'request' OR j.owner_id IS DISTINCT FROM r.id) THEN 'job_id names a job of another owner' END),
           (CASE WHEN r.status = 'executing' AND j.status NOT IN ('queued', 'leased') THEN 'executing with a finished job' END),
           (CASE WHEN r.status = 'completed' AND (j.status <> 'succeeded' OR c.wraps <> 1 OR r.completed_at IS NULL) THEN 'completed without a succeeded job, its one wrap and completed_at' END),
           (CASE WHEN r.status = 'failed' AND j.status NOT IN ('failed', 'dead') THEN 'failed with a job that did not fail' END),
           (CASE WHEN r.status NOT IN ('completed', 'rolling_back', 'rolled_back') AND c.wraps > 0 THEN 'a wrap on a request that did not complete' END)
         ) AS p(problem)
        WHERE p.problem IS NOT NULL AND r.id = ANY($1)`,
      [ids],
    );
    checks.push(() => expect(inconsistent).toEqual([]));
    const requestStates = Object.fromEntries((await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM requests WHERE id = ANY($1) GROUP BY 1`, [ids])).map((r) => [r.status, r.n]));

    const allByStatus: Record<string, number> = {};
    for (const c of calls) allByStatus[c.status] = (allByStatus[c.status] ?? 0) + 1;
    const serverErrors: Record<string, number> = {};
    for (const c of calls) if (c.status >= 500) serverErrors[`${c.status} ${c.code ?? ''}`.trim()] = (serverErrors[`${c.status} ${c.code ?? ''}`.trim()] ?? 0) + 1;
    checks.push(() => expect(Object.keys(serverErrors).filter((k) => k !== '503 STORAGE_UNAVAILABLE')).toEqual([]));

    // What the replicas logged at error level, by message (the outage itself is logged; a crash or a 500 would show here).
    const errorLines = cluster.replicas.flatMap((r) => [...r.errorLines, ...(r.process?.errorLines ?? [])]);
    const errorMessages: Record<string, number> = {};
    for (const line of errorLines) {
      let msg = line.slice(0, 120);
      try {
        const parsed = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        msg = `${parsed.msg ?? ''}${parsed.err?.message ? `: ${parsed.err.message}` : ''}`.slice(0, 160);
      } catch {
        /* not JSON: its first characters */
      }
      errorMessages[msg] = (errorMessages[msg] ?? 0) + 1;
    }

    Object.assign(figures, {
      statement_timeout_ms: STATEMENT_TIMEOUT_MS,
      connect_timeout_ms: CONNECT_TIMEOUT_MS,
      latency_bound_ms: LATENCY_BOUND_MS,
      recovery_bound_s: RECOVERY_BOUND_MS / 1000,
      workers: WORKERS,
      agents: AGENTS,
      requests_sent: calls.length,
      answers_by_status: allByStatus,
      server_errors_by_status: serverErrors,
      mutations_retried: retried,
      modes,
      replica_pids_unchanged: JSON.stringify(pidsAfter) === JSON.stringify(pids),
      acknowledged_writes: { requests: ids.length, approvals: approvedIds.length },
      found_writes: { requests: foundRequests, approvals: foundApprovals },
      request_states: requestStates,
      inconsistent_requests: inconsistent.length,
      replica_error_log_lines: errorLines.length,
      replica_error_messages: errorMessages,
    });
    for (const check of checks) check();
  });
});
