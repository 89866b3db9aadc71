#!/usr/bin/env node
'use strict';
/**
 * Benchmark kit (bench/README.md). Starts the built app (BENCH_APP_DIR, default this checkout) with a throw-away
 * DATA_DIR (embedded PostgreSQL), seeds it through the public API, starts two baselines on the same database — bare
 * Express 5 + pg and raw node:http + pg, both doing the same work as each scenario (bench/baselines/same-work.js) —
 * and loads each scenario in RUNS rounds, each round measuring every target once back to back (app, Express, raw and,
 * for healthz/S1/S1b, the same app on Fastify): autocannon, CONNECTIONS connections, warm-up discarded, the median
 * run per target, the median of the per-round ratios (so the host's drift over minutes cancels out of them). S5 and S6
 * are also measured at a fixed offered rate for their latency (lib/paced.js). S4 (job queue) is driven by 16 agent
 * clients in this process. Prints a Markdown table, writes
 * bench/results/latest/latest.json (git-ignored) and, with --write-doc or BENCH_DOC=1, the results section of
 * docs/performance.md.
 */
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const autocannon = require('autocannon');
const { Client } = require('pg');
const { HOST, freePort, positiveIntEnv } = require('../scripts/lib/harness');
const { APP_DIR, MAIN, ROOT, log, startApp, startChild, stopAll, waitUntil } = require('./lib/app');
const { paced } = require('./lib/paced');
const { expectOk, request } = require('./lib/http');
const { seedWorld, createBody, bearer } = require('./lib/seed');
const { seedAudit, waitSealed } = require('./seed-audit');
const { renderDoc, evaluateTargets, table, targetsTable } = require('./lib/report');

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = positiveIntEnv('BENCH_RUNS', QUICK ? 1 : 3);
const DURATION = positiveIntEnv('BENCH_DURATION', QUICK ? 2 : 10);
const WARMUP = positiveIntEnv('BENCH_WARMUP', QUICK ? 1 : 2);
const CONNECTIONS = positiveIntEnv('BENCH_CONNECTIONS', 32);
// Fixed-rate latency (S5, S6): LATENCY_RATE requests/s offered on at most LATENCY_CONNECTIONS connections.
const LATENCY_RATE = positiveIntEnv('BENCH_LATENCY_RATE', 100);
const LATENCY_CONNECTIONS = positiveIntEnv('BENCH_LATENCY_CONNECTIONS', 8);
const LATENCY_GENERATOR = process.env.BENCH_LATENCY_GENERATOR === 'autocannon' ? 'autocannon' : 'paced';
const S4_JOBS = positiveIntEnv('BENCH_S4_JOBS', QUICK ? 300 : 20_000);
const S4_AGENTS = positiveIntEnv('BENCH_S4_AGENTS', 16);
const S4_BATCH = positiveIntEnv('BENCH_S4_BATCH', 50);
const S4_RUNS = positiveIntEnv('BENCH_S4_RUNS', 1);
const AUDIT_EVENTS = positiveIntEnv('BENCH_AUDIT_EVENTS', QUICK ? 50_000 : 1_000_000);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const WRITE_DOC = process.argv.includes('--write-doc') || process.env.BENCH_DOC === '1';
const POOL_SIZE = 10; // the app's DATABASE_POOL_SIZE default; the baselines use the same
const RATE_LIMIT = '1000000'; // the config's ceiling: the limiter counts but never refuses
// Fixed keys, so the baselines verify the same JWT with the same key and hash API keys with the same pepper.
const JWT_SECRET = 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuv';
const API_KEY_PEPPER = 'bench-api-key-pepper-0123456789-abcdefghijklmnop';
const RESULTS = path.join(__dirname, 'results', 'latest', 'latest.json');
const wanted = (name) => !ONLY || ONLY.has(name);

/** VmRSS / VmHWM of a process in MB (Linux /proc), or undefined. */
function memoryOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number((new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status) || [])[1]);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every 200 ms until stopped; returns the peak in MB (undefined if the process was gone). */
function rssSampler(pid) {
  let peak = 0;
  const tick = () => {
    const m = memoryOf(pid);
    if (m && m.rss > peak) peak = m.rss;
  };
  tick();
  const timer = setInterval(tick, 200);
  return () => {
    clearInterval(timer);
    tick();
    return peak > 0 ? Number(peak.toFixed(1)) : undefined;
  };
}

const CLK_TCK = 100; // Linux USER_HZ
/** utime + stime (ticks) and parent pid of every process, from /proc. */
function cpuTicks() {
  const out = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * CPU used during a measurement by the app process and by the embedded PostgreSQL (postmaster and its backends), in
 * cores (1.0 = one core busy the whole time): says whether Node's one thread or the database is the bound.
 */
function cpuMeter(appPid, postmasterPid) {
  if (!appPid || !postmasterPid) return () => undefined;
  const before = cpuTicks();
  const t0 = Date.now();
  const app0 = before.get(appPid)?.ticks ?? 0;
  return () => {
    const after = cpuTicks();
    const seconds = (Date.now() - t0) / 1000;
    // Per process, so a backend that ends during the run does not subtract (its last ticks are lost: a slight undercount).
    let pg = 0;
    for (const [pid, p] of after) if (pid === postmasterPid || p.ppid === postmasterPid) pg += p.ticks - (before.get(pid)?.ticks ?? 0);
    return {
      app_cpu_cores: Number((((after.get(appPid)?.ticks ?? 0) - app0) / CLK_TCK / seconds).toFixed(2)),
      pg_cpu_cores: Number((pg / CLK_TCK / seconds).toFixed(2)),
    };
  };
}
let postmasterPid;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One autocannon measurement (warm-up discarded), with the app's peak RSS when `pid` is given. */
async function measure(opts, pid) {
  const base = { connections: CONNECTIONS, pipelining: 1, timeout: 10, ...opts };
  if (WARMUP > 0) await autocannon({ ...base, duration: WARMUP });
  const stop = pid ? rssSampler(pid) : null;
  const cpu = cpuMeter(pid, postmasterPid);
  const r = await autocannon({ ...base, duration: DURATION });
  return {
    ...cpu(),
    requests_per_s: Math.round(r.requests.average),
    latency_p50_ms: r.latency.p50,
    latency_p99_ms: r.latency.p99,
    total: r.requests.total,
    non_2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    peak_rss_mb: stop ? stop() : undefined,
  };
}

/** RUNS measurements; the median run (by throughput) is reported, with every run's figures kept. */
function summarize(runs) {
  const rps = median(runs.map((r) => r.requests_per_s));
  const mid = runs.reduce((best, r) => (Math.abs(r.requests_per_s - rps) < Math.abs(best.requests_per_s - rps) ? r : best), runs[0]);
  const rss = runs.map((r) => r.peak_rss_mb).filter((x) => x !== undefined);
  return {
    requests_per_s: Math.round(rps),
    latency_p50_ms: mid.latency_p50_ms,
    latency_p99_ms: mid.latency_p99_ms,
    non_2xx: runs.reduce((n, r) => n + r.non_2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    peak_rss_mb: rss.length ? Math.max(...rss) : undefined,
    app_cpu_cores: mid.app_cpu_cores,
    pg_cpu_cores: mid.pg_cpu_cores,
    rss_by_run_mb: rss.length ? rss : undefined,
    runs,
  };
}

/**
 * Per-round ratios num ÷ den of two targets measured in the same rounds (round i with round i) and their median:
 * the host's drift between rounds moves both sides of a ratio together.
 */
function roundRatios(num, den) {
  if (!num || !den) return undefined;
  const perRound = [];
  for (let i = 0; i < Math.min(num.length, den.length); i++) {
    if (num[i].requests_per_s && den[i].requests_per_s) perRound.push(Number((num[i].requests_per_s / den[i].requests_per_s).toFixed(3)));
  }
  return perRound.length ? { median: Number(median(perRound).toFixed(2)), per_round: perRound } : undefined;
}

/** autocannon options (url, method, headers, body) as a node:http target for lib/paced.js. */
function toTarget(opts) {
  const u = new URL(opts.url);
  return { host: u.hostname, port: Number(u.port), path: u.pathname + u.search, method: opts.method || 'GET', headers: opts.headers || {}, body: opts.body };
}

/** One fixed-rate latency measurement (warm-up at the same rate, discarded): p50/p90/p99/max and the rate served. */
async function measureLatency(opts) {
  if (LATENCY_GENERATOR === 'autocannon') {
    // autocannon's overallRate: each connection sends its share of the second back to back, then waits (bursts).
    const base = { ...opts, connections: LATENCY_CONNECTIONS, overallRate: LATENCY_RATE, pipelining: 1, timeout: 10, ignoreCoordinatedOmission: true };
    if (WARMUP > 0) await autocannon({ ...base, duration: WARMUP });
    const r = await autocannon({ ...base, duration: DURATION });
    const served = r.requests.total / DURATION;
    return { offered_per_s: LATENCY_RATE, requests_per_s: Number(served.toFixed(1)), achieved: served >= 0.95 * LATENCY_RATE && r.errors + r.timeouts === 0, total: r.requests.total, non_2xx: r.non2xx, errors: r.errors + r.timeouts, latency_p50_ms: r.latency.p50, latency_p90_ms: r.latency.p90, latency_p99_ms: r.latency.p99, latency_max_ms: r.latency.max };
  }
  const target = toTarget(opts);
  const run = { rate: LATENCY_RATE, connections: LATENCY_CONNECTIONS, target };
  if (WARMUP > 0) await paced({ ...run, durationS: WARMUP });
  return paced({ ...run, durationS: DURATION });
}

/** Fixed-rate runs: the median run by p99 (the upper one of two) is reported, with every run kept. */
function summarizeLatency(runs) {
  const p99 = (r) => r.latency_p99_ms ?? Infinity; // no response at all: the worst
  const byP99 = [...runs].sort((a, b) => p99(a) - p99(b));
  const mid = byP99[Math.floor(byP99.length / 2)];
  return {
    offered_per_s: mid.offered_per_s,
    requests_per_s: mid.requests_per_s,
    achieved: runs.every((r) => r.achieved),
    latency_p50_ms: mid.latency_p50_ms,
    latency_p90_ms: mid.latency_p90_ms,
    latency_p99_ms: mid.latency_p99_ms,
    latency_max_ms: mid.latency_max_ms,
    non_2xx: runs.reduce((n, r) => n + r.non_2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    runs,
  };
}

/**
 * RUNS rounds; in each, every target is measured once, back to back, in the given order (`before` first each
 * time). Returns { target: [run per round] }.
 */
async function inRounds(name, targets, one, describe) {
  const runs = Object.fromEntries(targets.map(([t]) => [t, []]));
  // A target whose process has exited would only add zeros: stop the kit instead (its cleanup stops the rest).
  const check = ([t, , , handle]) => {
    if (handle && !handle.alive()) throw new Error(`${t} (pid ${handle.pid}) exited (${JSON.stringify(handle.exited)}) during ${name}:\n${handle.tail.slice(-10).join('\n')}`);
  };
  for (let round = 1; round <= RUNS; round++) {
    for (const target of targets) {
      check(target);
      const r = await one(target);
      check(target);
      runs[target[0]].push(r);
      log(`${name} [${target[0]}] round ${round}/${RUNS}: ${describe(r)}`);
    }
  }
  return runs;
}
const describeRun = (r) => `${r.requests_per_s} req/s, p50 ${r.latency_p50_ms} ms, p99 ${r.latency_p99_ms} ms` +
  (r.peak_rss_mb ? `, peak RSS ${r.peak_rss_mb} MB, CPU app ${r.app_cpu_cores} / PostgreSQL ${r.pg_cpu_cores} cores` : '') + (r.non_2xx || r.errors ? ` (non-2xx ${r.non_2xx}, errors ${r.errors})` : '');
const describeLatency = (r) => `${r.requests_per_s} of ${r.offered_per_s} req/s served${r.achieved ? '' : ' (not achieved)'}, p50 ${r.latency_p50_ms} / p90 ${r.latency_p90_ms} / p99 ${r.latency_p99_ms} / max ${r.latency_max_ms} ms` + (r.non_2xx || r.errors ? ` (non-2xx ${r.non_2xx}, errors ${r.errors})` : '');
const ratioText = (x) => (x ? `${x.median} (${x.per_round.join(', ')})` : '—');

// ---------- S4: agents claiming and completing jobs over HTTP ----------

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });
function post(port, urlPath, headers, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: HOST, port, path: urlPath, method: 'POST', agent: keepAlive, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

let jobRun = 0;
/** Enqueues `n` jobs for the queue workspace's agents by SQL (capability 'bench'), tagged with a run id. */
async function enqueueJobs(db, workspaceId, n) {
  const tag = `r${Date.now().toString(36)}${jobRun++}`;
  const base = jobRun * 100_000_000;
  await db.query(
    `INSERT INTO jobs (id, tenant_id, workspace_id, capability, type, payload)
     SELECT 'job_' || lpad(upper(to_hex($4::bigint + g)), 26, '0'), w.tenant_id, w.id, 'bench', 'discovery.run', jsonb_build_object('run', $3::text, 'n', g)
       FROM generate_series(1, $2::int) g, workspaces w WHERE w.id = $1`,
    [workspaceId, n, tag, base],
  );
  return tag;
}

/** Does the server accept `max_jobs` on claim? Tries with one queued job (and completes whatever it got). */
async function batchClaimSupported(port, db, workspaceId, agent) {
  await enqueueJobs(db, workspaceId, 1);
  const headers = { 'x-agent-secret': agent.secret };
  const res = await post(port, `/api/v1/agents/${agent.id}/jobs/claim`, headers, { max_jobs: 1 });
  const jobs = res.status === 200 ? (Array.isArray(res.json && res.json.jobs) ? res.json.jobs : [res.json]) : [];
  for (const j of jobs) await post(port, `/api/v1/agents/${agent.id}/jobs/${j.id}/complete`, headers, { lease_token: j.lease_token, status: 'succeeded' });
  return res.status === 200 && Array.isArray(res.json && res.json.jobs);
}

/**
 * 16 clients claim and complete until the queue is empty: one job per claim and one completion per job, or (batch)
 * up to `batch` jobs per claim (`max_jobs`) completed together through POST …/jobs/complete.
 */
async function drainJobs(port, db, workspaceId, agents, n, batch, pid) {
  const tag = await enqueueJobs(db, workspaceId, n);
  const seen = new Set();
  let duplicates = 0;
  let failures = 0;
  let requests = 0;
  const latencies = [];
  const stop = pid ? rssSampler(pid) : null;
  const cpu = cpuMeter(pid, postmasterPid);
  const started = Date.now();
  await Promise.all(agents.map(async (agent) => {
    const headers = { 'x-agent-secret': agent.secret };
    for (;;) {
      const t0 = process.hrtime.bigint();
      const res = await post(port, `/api/v1/agents/${agent.id}/jobs/claim`, headers, batch ? { max_jobs: batch } : {});
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      requests++;
      if (res.status === 204) return;
      if (res.status !== 200) {
        failures++;
        if (failures > 100) throw new Error(`S4: claim → ${res.status} ${res.text.slice(0, 200)}`);
        continue;
      }
      const jobs = batch ? res.json.jobs : [res.json];
      if (jobs.length === 0) return;
      for (const job of jobs) {
        if (seen.has(job.id)) duplicates++;
        seen.add(job.id);
      }
      if (batch) {
        // The batch completion route: one call for the jobs claimed together.
        const t1 = process.hrtime.bigint();
        const done = await post(port, `/api/v1/agents/${agent.id}/jobs/complete`, headers, { completions: jobs.map((job) => ({ job_id: job.id, lease_token: job.lease_token, status: 'succeeded' })) });
        latencies.push(Number(process.hrtime.bigint() - t1) / 1e6);
        requests++;
        if (done.status !== 200) failures += jobs.length;
        else failures += done.json.results.filter((r) => r.outcome !== 'completed').length;
        continue;
      }
      await Promise.all(jobs.map(async (job) => {
        const t1 = process.hrtime.bigint();
        const done = await post(port, `/api/v1/agents/${agent.id}/jobs/${job.id}/complete`, headers, { lease_token: job.lease_token, status: 'succeeded' });
        latencies.push(Number(process.hrtime.bigint() - t1) / 1e6);
        requests++;
        if (done.status !== 204) failures++;
      }));
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  const peak = stop ? stop() : undefined;
  const { rows } = await db.query(`SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*)::int AS n FROM jobs WHERE workspace_id = $1 AND payload->>'run' = $2`, [workspaceId, tag]);
  latencies.sort((a, b) => a - b);
  const pct = (p) => Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(1));
  return {
    ...cpu(),
    jobs: n,
    jobs_per_s: Math.round(rows[0].ok / seconds),
    seconds: Number(seconds.toFixed(1)),
    duplicates,
    lost: rows[0].n - rows[0].ok,
    failed_requests: failures,
    requests_per_s: Math.round(requests / seconds),
    latency_p50_ms: pct(0.5),
    latency_p99_ms: pct(0.99),
    peak_rss_mb: peak,
  };
}

function gitCommit(dir) {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', timeout: 5000 }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', 'src'], { cwd: dir, encoding: 'utf8', timeout: 5000 }).trim();
    return dirty ? `${sha} (src/ modified)` : sha;
  } catch {
    return undefined;
  }
}

async function main() {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx nest build in ${APP_DIR})`);
  const loadBefore = os.loadavg();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-bench-'));
  const [appPort, pgPort, rawPort, expressPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  log(`app ${APP_DIR}; DATA_DIR ${dataDir}; app :${appPort}, PostgreSQL :${pgPort}, raw :${rawPort}, express :${expressPort}`);
  log(`${RUNS} round(s) × (${WARMUP} s warm-up + ${DURATION} s) per target, ${CONNECTIONS} connections; S5/S6 also at ${LATENCY_RATE} req/s on ${LATENCY_CONNECTIONS} connections (${LATENCY_GENERATOR}); load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);

  const env = {
    ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir, HOST, PORT: String(appPort), EMBEDDED_PG_PORT: String(pgPort), DATABASE_URL: '', REDIS_URL: '',
    LOG_LEVEL: 'warn', RATE_LIMIT_DEFAULT: RATE_LIMIT, RATE_LIMIT_AUTH: '100000', RATE_LIMIT_AGENT: RATE_LIMIT, JWT_SECRET, API_KEY_PEPPER,
  };
  const nodeArgs = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  cleanup = async () => {
    await stopAll(5000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const app = await startApp(env, nodeArgs);
  const children = [];
  let db;
  let fastify; // { port, dir, app }: the same build on Fastify, while a scenario still needs it
  const stopFastify = async () => {
    if (!fastify) return;
    const f = fastify;
    fastify = undefined;
    if (f.app) await f.app.stop(30_000);
    fs.rmSync(f.dir, { recursive: true, force: true });
  };
  cleanup = async () => {
    await stopFastify().catch((e) => log(`Fastify: ${e.message}`));
    for (const c of children) await c.stop(5000);
    if (db) await db.end().catch(() => {});
    const r = await app.stop(30_000);
    if (r && r.code !== 0 && r.code !== null) log(`app exited with code ${r.code}:\n${app.tail.slice(-10).join('\n')}`);
    await stopAll(5000); // anything started and not stopped above (e.g. an instance whose start was interrupted)
    if (process.env.BENCH_KEEP_DATA === '1') log(`kept ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const w = await seedWorld(appPort, { agents: S4_AGENTS });
  try {
    postmasterPid = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    postmasterPid = undefined;
  }
  const pgPassword = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const databaseUrl = `postgres://postgres:${encodeURIComponent(pgPassword)}@${HOST}:${pgPort}/countersign`;
  db = new Client({ connectionString: databaseUrl });
  // A lost connection (e.g. the database stopped under us) fails the next query instead of crashing without cleanup.
  db.on('error', (e) => log(`database connection: ${e.message}`));
  await db.connect();
  const baseEnv = { ...process.env, DATABASE_URL: databaseUrl, POOL_SIZE: String(POOL_SIZE), JWT_SECRET, API_KEY_PEPPER };
  const raw = startChild('raw', [path.join(__dirname, 'baselines', 'raw-server.js')], { ...baseEnv, PORT: String(rawPort) });
  const exp = startChild('express', [path.join(__dirname, 'baselines', 'express-server.js')], { ...baseEnv, PORT: String(expressPort) });
  children.push(raw, exp);
  for (const [c, port] of [[raw, rawPort], [exp, expressPort]]) await waitUntil(c.name, 15_000, async () => (await request(port, 'GET', '/hello')).status === 200, c.alive);

  // Every same-work route must answer like the app before it is measured.
  const sAlice = bearer(w.alice.token);
  for (const port of [appPort, rawPort, expressPort]) {
    await expectOk(port, 'GET', `/api/v1/requests/${w.targetRequestId}`, { headers: sAlice });
    await expectOk(port, 'GET', `/api/v1/requests/${w.targetRequestId}`, { headers: { 'x-api-key': w.apiKey } });
  }

  const seeding = {};
  let cursor50;
  const auditFilter = 'action=job.claimed&limit=50';
  // S6's table, made just before S6 (after the other scenarios): sealing 1M events grows the app's heap, which would
  // otherwise show in every scenario's RSS.
  const seedS6 = async () => {
    if (seeding.inserted) return;
    log(`seeding ${AUDIT_EVENTS} audit events (SQL generate_series)…`);
    const rssBefore = memoryOf(app.pid);
    Object.assign(seeding, await seedAudit(databaseUrl, w.tenantId, AUDIT_EVENTS, [w.admin.userId, w.alice.userId, w.bob.userId]));
    log(`inserted in ${seeding.insert_seconds} s; waiting for the app's sealer…`);
    const stopRss = rssSampler(app.pid);
    seeding.seal_seconds = await waitSealed(databaseUrl, 1_800_000, (left) => log(`  ${left} unsealed`));
    seeding.app_rss_before_mb = rssBefore && Number(rssBefore.rss.toFixed(1));
    seeding.app_peak_rss_while_sealing_mb = stopRss();
    log(`sealed in ${seeding.seal_seconds} s (app RSS ${seeding.app_rss_before_mb} MB before, peak ${seeding.app_peak_rss_while_sealing_mb} MB while sealing)`);
    let page = await expectOk(appPort, 'GET', `/api/v1/audit-events?${auditFilter}`, { headers: bearer(w.admin.token) });
    for (let i = 2; i <= 50; i++) {
      if (!page.pagination.next_cursor) throw new Error(`S6: only ${i - 1} pages of ${auditFilter}; seed more events (BENCH_AUDIT_EVENTS)`);
      cursor50 = page.pagination.next_cursor;
      page = await expectOk(appPort, 'GET', `/api/v1/audit-events?${auditFilter}&cursor=${cursor50}`, { headers: bearer(w.admin.token) });
    }
  };

  // [name, port, pid whose RSS and CPU are sampled, process handle]
  const targets = [['app', appPort, app.pid, app], ['express', expressPort, undefined, exp], ['raw', rawPort, undefined, raw]];
  const url = (port, p) => `http://${HOST}:${port}${p}`;
  const json = { 'content-type': 'application/json' };
  const runId = Date.now().toString(36);
  let n = 0;
  // S3: pending requests to approve, taken in order; refilled before each measured target.
  let pending = [];
  const refillPending = async (need) => {
    const { rows } = await db.query(`SELECT id FROM requests WHERE tenant_id = $1 AND status = 'pending_approval' AND id <> $2 ORDER BY id`, [w.tenantId, w.targetRequestId]);
    if (rows.length < need) {
      log(`S3: creating ${need - rows.length} pending requests (through the raw baseline's create, the same rows)…`);
      let left = need - rows.length;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (left-- > 0) await post(rawPort, '/api/v1/requests', sAlice, createBody(w.secretId));
      }));
      return refillPending(0);
    }
    pending = rows.map((r) => r.id);
  };

  const scenarios = [
    { name: 'healthz', fastify: true, appPath: '/healthz', basePath: '/hello', opts: (port, p) => ({ url: url(port, p) }) },
    { name: 'one-row read (reference)', baselinesOnly: true, opts: (port) => ({ url: url(port, `/workspaces/${w.workspaceId}`) }) },
    { name: 'S1 GET request (JWT)', fastify: true, opts: (port) => ({ url: url(port, `/api/v1/requests/${w.targetRequestId}`), headers: sAlice }) },
    { name: 'S1b GET request (API key)', fastify: true, opts: (port) => ({ url: url(port, `/api/v1/requests/${w.targetRequestId}`), headers: { 'x-api-key': w.apiKey } }) },
    { name: 'S2 create request (Idempotency-Key)', opts: (port) => ({
      url: url(port, ''),
      requests: [{ method: 'POST', path: '/api/v1/requests', headers: { ...sAlice, ...json }, body: JSON.stringify(createBody(w.secretId)),
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${runId}-${(n++).toString(36)}` } }) }],
    }) },
    { name: 'S3 approve', before: async () => refillPending(Number(process.env.BENCH_S3_POOL || (WARMUP + DURATION) * (QUICK ? 300 : 700))), opts: (port) => ({
      url: url(port, ''),
      requests: [{ method: 'POST', path: '/', headers: { ...bearer(w.bob.token), ...json }, body: '{}',
        setupRequest: (req) => ({ ...req, path: `/api/v1/requests/${pending.length ? pending.shift() : 'exhausted'}/approve` }) }],
    }) },
    { name: 'S5 authz check', latency: true, opts: (port) => ({
      url: url(port, '/api/v1/authz/check'), method: 'POST', headers: { ...bearer(w.admin.token), ...json },
      body: JSON.stringify({ principal: { type: 'user', id: w.alice.userId }, permission: 'request.create', resource: { type: 'workspace', id: w.workspaceId } }),
    }) },
    { name: 'S6 first page', once: seedS6, latency: true, opts: (port) => ({ url: url(port, `/api/v1/audit-events?${auditFilter}`), headers: bearer(w.admin.token) }) },
    { name: 'S6 page 50', once: seedS6, latency: true, opts: (port) => ({ url: url(port, `/api/v1/audit-events?${auditFilter}&cursor=${cursor50}`), headers: bearer(w.admin.token) }) },
  ];

  // The same build on Fastify (HTTP_ADAPTER=fastify): a second instance on the same database (DATABASE_URL, so the
  // same tokens and keys work), started before any measurement so that it takes part in the rounds of healthz and
  // S1/S1b; stopped after the last of them (before S6: its sealer must not share the 1M events with the app's).
  const fastifyScenarios = scenarios.filter((x) => x.fastify && wanted(x.name));
  if (process.env.BENCH_FASTIFY !== '0' && fastifyScenarios.length) {
    fastify = { port: await freePort(), dir: fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-bench-fastify-')) };
    try {
      const fEnv = { ...env, HTTP_ADAPTER: 'fastify', DATA_DIR: fastify.dir, PORT: String(fastify.port), DATABASE_URL: databaseUrl };
      delete fEnv.EMBEDDED_PG_PORT;
      fastify.app = await startApp(fEnv);
      await expectOk(fastify.port, 'GET', `/api/v1/requests/${w.targetRequestId}`, { headers: sAlice });
      await expectOk(fastify.port, 'GET', `/api/v1/requests/${w.targetRequestId}`, { headers: { 'x-api-key': w.apiKey } });
    } catch (error) {
      log(`Fastify: not measured (${String(error.message).split('\n')[0]})`);
      await stopFastify();
    }
  }
  const lastFastify = fastifyScenarios.length ? fastifyScenarios[fastifyScenarios.length - 1].name : undefined;

  const rows = [];
  for (const s of scenarios) {
    if (!wanted(s.name)) continue;
    if (s.once) await s.once();
    // Round order: app, Express, raw, then Fastify.
    const list = targets.filter(([t]) => !(s.baselinesOnly && t === 'app'));
    if (s.fastify && fastify && fastify.app) list.push(['fastify', fastify.port, fastify.app.pid, fastify.app]);
    const runs = await inRounds(s.name, list, async ([target, port, pid]) => {
      if (s.before) await s.before();
      return measure(s.opts(port, target === 'app' || target === 'fastify' ? s.appPath : s.basePath), pid);
    }, describeRun);
    const row = { scenario: s.name };
    for (const t of ['app', 'express', 'raw']) if (runs[t]) row[t] = summarize(runs[t]);
    row.ratios = s.baselinesOnly
      ? { express_raw: roundRatios(runs.express, runs.raw) }
      : { app_express: roundRatios(runs.app, runs.express), app_raw: roundRatios(runs.app, runs.raw) };
    rows.push(row);
    log(`${s.name}: ${Object.entries(row.ratios).map(([k, v]) => `${k.replace('_', ' ÷ ')} ${ratioText(v)}`).join('; ')}`);
    if (runs.fastify) {
      // In a "· Fastify" row, `app` is the Fastify instance; its ratios come from the same rounds.
      const frow = { scenario: `${s.name} · Fastify`, base: s.name, adapter: 'fastify', app: summarize(runs.fastify), express: row.express, raw: row.raw,
        ratios: { app_express: roundRatios(runs.fastify, runs.express), app_raw: roundRatios(runs.fastify, runs.raw) } };
      rows.push(frow);
      log(`${frow.scenario}: ${Object.entries(frow.ratios).map(([k, v]) => `${k.replace('app_', 'Fastify ÷ ')} ${ratioText(v)}`).join('; ')}`);
    }
    if (s.name === lastFastify) await stopFastify();
    if (s.latency) {
      // Latency at a fixed offered rate, below saturation: at CONNECTIONS saturating connections p99 is bound by
      // Little's law (≥ connections ÷ throughput), not by the work per request.
      const name = `${s.name} @${LATENCY_RATE} req/s`;
      const lruns = await inRounds(name, targets, ([target, port]) => measureLatency(s.opts(port, target === 'app' ? s.appPath : s.basePath)), describeLatency);
      const lrow = { scenario: name, base: s.name, fixed_rate: { offered_per_s: LATENCY_RATE, connections: LATENCY_CONNECTIONS, generator: LATENCY_GENERATOR } };
      for (const t of ['app', 'express', 'raw']) lrow[t] = summarizeLatency(lruns[t]);
      rows.push(lrow);
    }
  }

  let s4;
  if (wanted('S4 job queue')) {
    s4 = { agents: S4_AGENTS, jobs: S4_JOBS };
    const rawAgents = w.workers;
    for (const [target, port, pid] of targets) {
      const runs = [];
      for (let i = 0; i < S4_RUNS; i++) runs.push(await drainJobs(port, db, w.queueWorkspaceId, rawAgents, S4_JOBS, 0, pid));
      s4[target] = runs;
      log(`S4 [${target}] single claims: ${runs.map((r) => `${r.jobs_per_s} jobs/s (dup ${r.duplicates}, lost ${r.lost})`).join('; ')}`);
    }
    s4.batch_supported = await batchClaimSupported(appPort, db, w.queueWorkspaceId, rawAgents[0]);
    if (s4.batch_supported) {
      const runs = [];
      for (let i = 0; i < S4_RUNS; i++) runs.push(await drainJobs(appPort, db, w.queueWorkspaceId, rawAgents, S4_JOBS, S4_BATCH, app.pid));
      s4.app_batch = runs;
      s4.batch_size = S4_BATCH;
      log(`S4 [app] max_jobs=${S4_BATCH}: ${runs.map((r) => `${r.jobs_per_s} jobs/s (dup ${r.duplicates}, lost ${r.lost})`).join('; ')}`);
    } else {
      log('S4: the app does not accept max_jobs (batch claims): single claims only');
    }
  }

  const finalMemory = memoryOf(app.pid);
  await cleanup();
  cleanup = async () => {};

  const cpus = os.cpus();
  const result = {
    date: new Date().toISOString(),
    commit: gitCommit(APP_DIR),
    app_dir: APP_DIR === ROOT ? '.' : APP_DIR,
    machine: { cpus: cpus.length, cpu_model: cpus[0] && cpus[0].model, memory_gb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version, load_average_before: loadBefore.map((x) => Number(x.toFixed(2))), load_average_after: os.loadavg().map((x) => Number(x.toFixed(2))) },
    settings: { runs: RUNS, rounds: 'interleaved: app, express, raw, fastify per round; ratios = median of per-round ratios', duration_s: DURATION, warmup_s: WARMUP, connections: CONNECTIONS, pipelining: 1,
      latency_rate_per_s: LATENCY_RATE, latency_connections: LATENCY_CONNECTIONS, latency_generator: LATENCY_GENERATOR, latency_scenarios: scenarios.filter((x) => x.latency).map((x) => x.name), db_pool_size: POOL_SIZE, log_level: 'warn', autocannon: require('autocannon/package.json').version, express: require('express/package.json').version, s4_jobs: S4_JOBS, s4_agents: S4_AGENTS, s4_runs: S4_RUNS, audit_events: AUDIT_EVENTS, baseline_principal_cache_ms: Number(process.env.BASELINE_PRINCIPAL_CACHE_MS ?? 1000) },
    seeding,
    app_memory_at_end_mb: finalMemory && { rss: Number(finalMemory.rss.toFixed(1)), hwm: Number(finalMemory.hwm.toFixed(1)) },
    scenarios: rows,
    s4,
  };
  result.targets = evaluateTargets(result);
  const md = table(result);
  process.stdout.write(`\n${md}\n\n${targetsTable(result)}\n\n`);
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path.relative(ROOT, RESULTS)}`);
  if (WRITE_DOC) {
    const docPath = path.join(ROOT, 'docs', 'performance.md');
    fs.writeFileSync(docPath, renderDoc(fs.readFileSync(docPath, 'utf8'), result));
    const dated = path.join(__dirname, 'results', `${result.date.slice(0, 10)}.json`);
    fs.writeFileSync(dated, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote docs/performance.md (results section) and ${path.relative(ROOT, dated)}`);
  }
}

let cleanup = async () => {};
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

// Whatever escapes (an 'error' event without a listener, a stray rejection): stop every child before exiting.
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (error) => {
    log(`${ev}: ${error && error.stack ? error.stack : error}`);
    if (stopping) return;
    stopping = true;
    void cleanup().catch(() => {}).finally(() => process.exit(1));
  });
}

const deadline = setTimeout(() => {
  log('overall time limit reached; stopping');
  void cleanup().finally(() => process.exit(2));
}, Number(process.env.BENCH_DEADLINE_S || 7200) * 1000);
deadline.unref();

main().then(
  () => process.exit(0),
  async (error) => {
    log(`failed: ${error && error.stack ? error.stack : error}`);
    await cleanup().catch(() => {});
    process.exit(1);
  },
);
