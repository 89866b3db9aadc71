#!/usr/bin/env node
'use strict';
/**
 * HTTP benchmark kit (see bench/README.md). Starts the built app against a throw-away DATA_DIR (embedded
 * PostgreSQL), seeds it through the public API, loads a few endpoints with autocannon, compares them with a bare
 * node:http + pg baseline on the same database, prints a Markdown table and writes bench/results/latest/latest.json (git-ignored).
 *
 * Tunables (env): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (default 32),
 * BENCH_ONLY (comma-separated scenario names), BENCH_KEEP_DATA=1 (keep the temp DATA_DIR), BENCH_BUILD=1 (rebuild),
 * BENCH_NODE_ARGS (extra node flags for the app, e.g. --cpu-prof).
 * Every wait is bounded; all traffic goes to 127.0.0.1.
 */
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { Client } = require('pg');
const { HOST, freePort, positiveIntEnv, sleep } = require('../scripts/lib/harness');

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
// Local runs write under results/latest/ (git-ignored): a run never dirties the checkout. Results worth keeping are
// copied beside it under a dated name and committed.
const RESULTS = path.join(__dirname, 'results', 'latest', 'latest.json');

const DURATION = positiveIntEnv('BENCH_DURATION', 10);
const WARMUP = positiveIntEnv('BENCH_WARMUP', 2);
const CONNECTIONS = positiveIntEnv('BENCH_CONNECTIONS', 32);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const POOL_SIZE = 10; // the app's DATABASE_POOL_SIZE default; the baseline uses the same
// The limiter's ceiling (env.schema.ts allows at most 1,000,000 per minute per class ≈ 16,667/s, far above what
// 2 cores reach), so it is counted but never refuses during the run.
const RATE_LIMIT = '1000000';

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

async function request(port, method, urlPath, { body, headers = {} } = {}) {
  const res = await fetch(`http://${HOST}:${port}${urlPath}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, bytes: Buffer.byteLength(text) };
}

async function expectOk(port, method, urlPath, opts) {
  const res = await request(port, method, urlPath, opts);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${urlPath} → ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function waitUntil(what, timeoutMs, probe, isAlive) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`${what}: the process exited`);
    try {
      if (await probe()) return;
    } catch {
      /* not yet */
    }
    await sleep(250);
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s`);
}

/** Child process with its output kept (tail) for error messages; `stop()` sends SIGTERM, then SIGKILL after graceMs. */
function startChild(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) tail.push(line);
    while (tail.length > 40) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));
  return {
    name,
    child,
    tail,
    alive: () => !exited,
    async stop(graceMs) {
      if (exited) return exit;
      child.kill('SIGTERM');
      const result = await Promise.race([exit, sleep(graceMs).then(() => null)]);
      if (result) return result;
      log(`${name} (pid ${child.pid}) still running after ${graceMs / 1000} s: SIGKILL`);
      child.kill('SIGKILL');
      return Promise.race([exit, sleep(5000)]);
    },
  };
}

function ensureBuilt() {
  if (fs.existsSync(MAIN) && process.env.BENCH_BUILD !== '1') return;
  log('building (npx nest build)…');
  const r = spawnSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0 || !fs.existsSync(MAIN)) throw new Error('npx nest build failed');
}

/** Committed transactions in the app database so far (each statement outside a transaction is one). */
async function xactCommits(db) {
  await db.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.query("SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = 'countersign'");
  return Number(rows[0].n);
}

async function load(name, opts, db) {
  const base = { connections: CONNECTIONS, pipelining: 1, timeout: 10, ...opts };
  const before = await xactCommits(db);
  const warm = WARMUP > 0 ? await autocannon({ ...base, duration: WARMUP }) : { requests: { total: 0 } };
  const r = await autocannon({ ...base, duration: DURATION });
  await sleep(11_000); // idle backends flush their statistics within PGSTAT_IDLE_INTERVAL (10 s)
  const xacts = (await xactCommits(db)) - before - 2; // less this probe's own two
  const row = {
    scenario: name,
    requests_per_s: Math.round(r.requests.average),
    latency_p50_ms: r.latency.p50,
    latency_p99_ms: r.latency.p99,
    latency_avg_ms: Number(r.latency.average.toFixed(2)),
    total: r.requests.total,
    ok_2xx: r['2xx'],
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    duration_s: DURATION,
    // Approximate: background sweepers add a few; the probe's own statements are subtracted.
    db_xacts_per_request: Number((xacts / Math.max(1, warm.requests.total + r.requests.total)).toFixed(2)),
  };
  log(`${name}: ${row.requests_per_s} req/s, p50 ${row.latency_p50_ms} ms, p99 ${row.latency_p99_ms} ms` +
    `, ${row.db_xacts_per_request} DB transactions/request` +
    (row.non_2xx || row.errors ? ` (non-2xx ${row.non_2xx}, errors ${row.errors})` : ''));
  return row;
}

function table(rows, baseline) {
  const out = [
    '| scenario | requests/s | p50 (ms) | p99 (ms) | vs. baseline | DB xacts/req | non-2xx / errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const ratio = baseline && r.scenario !== 'baseline' ? `${((r.requests_per_s / baseline.requests_per_s) * 100).toFixed(0)} %` : '';
    out.push(`| ${r.scenario} | ${r.requests_per_s} | ${r.latency_p50_ms} | ${r.latency_p99_ms} | ${ratio} | ${r.db_xacts_per_request} | ${r.non_2xx} / ${r.errors} |`);
  }
  return out.join('\n');
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

async function main() {
  const deadline = setTimeout(() => {
    log('overall time limit reached; stopping');
    void cleanup().finally(() => process.exit(2));
  }, (180 + 6 * (DURATION + WARMUP + 5)) * 1000);
  deadline.unref();

  ensureBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-bench-'));
  const [appPort, pgPort, basePort] = [await freePort(), await freePort(), await freePort()];
  log(`DATA_DIR ${dataDir}; app :${appPort}, embedded PostgreSQL :${pgPort}, baseline :${basePort}`);

  const env = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    HOST,
    PORT: String(appPort),
    EMBEDDED_PG_PORT: String(pgPort),
    DATABASE_URL: '',
    REDIS_URL: '',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_DEFAULT: RATE_LIMIT,
    RATE_LIMIT_AUTH: '100000',
    RATE_LIMIT_AGENT: RATE_LIMIT,
  };
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", goes to the app's node (for profiling runs).
  const nodeArgs = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  const app = startChild('app', [...nodeArgs, MAIN], env);
  let baseline;
  cleanup = async () => {
    if (baseline) await baseline.stop(5000);
    const r = await app.stop(30_000);
    if (r && r.code !== 0 && r.code !== null) log(`app exited with code ${r.code}:\n${app.tail.slice(-10).join('\n')}`);
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    if (fs.existsSync(pidFile)) log(`warning: ${pidFile} still exists; embedded PostgreSQL may not have stopped`);
    if (process.env.BENCH_KEEP_DATA === '1') log(`kept ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const started = Date.now();
  await waitUntil('app /readyz', 180_000, async () => (await request(appPort, 'GET', '/readyz')).status === 200, app.alive).catch((e) => {
    throw new Error(`${e.message}\n${app.tail.join('\n')}`);
  });
  log(`app ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // Seed through the public API.
  const email = 'bench@example.com';
  const password = 'bench-password-123';
  await expectOk(appPort, 'POST', '/api/v1/auth/setup', { body: { email, password, name: 'Bench Admin' } });
  const { access_token: token } = await expectOk(appPort, 'POST', '/api/v1/auth/login', { body: { email, password } });
  const bearer = { authorization: `Bearer ${token}` };
  const ws = await expectOk(appPort, 'POST', '/api/v1/workspaces', { headers: bearer, body: { slug: 'bench-read', display_name: 'Bench read target' } });
  const { key } = await expectOk(appPort, 'POST', '/api/v1/api-keys', { headers: bearer, body: { name: 'bench', permissions: ['workspace.read'] } });

  const readPath = `/api/v1/workspaces/${ws.id}`;
  const appRead = await request(appPort, 'GET', readPath, { headers: bearer });
  const keyRead = await request(appPort, 'GET', readPath, { headers: { 'x-api-key': key } });
  if (appRead.status !== 200 || keyRead.status !== 200) throw new Error(`read check failed: ${appRead.status} / ${keyRead.status}`);

  const pgPassword = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const databaseUrl = `postgres://postgres:${encodeURIComponent(pgPassword)}@${HOST}:${pgPort}/countersign`;
  baseline = startChild('baseline', [path.join(__dirname, 'baseline-server.js')], {
    ...process.env, PORT: String(basePort), DATABASE_URL: databaseUrl, POOL_SIZE: String(POOL_SIZE),
  });
  const basePath = `/workspaces/${ws.id}`;
  await waitUntil('baseline', 15_000, async () => (await request(basePort, 'GET', basePath)).status === 200, baseline.alive);
  const baseRead = await request(basePort, 'GET', basePath);
  log(`response body: app ${appRead.bytes} B, baseline ${baseRead.bytes} B`);

  const run = Date.now().toString(36);
  let n = 0;
  const scenarios = [
    ['healthz', { url: `http://${HOST}:${appPort}/healthz` }],
    ['baseline', { url: `http://${HOST}:${basePort}${basePath}` }],
    ['read (JWT)', { url: `http://${HOST}:${appPort}${readPath}`, headers: bearer }],
    ['read (API key)', { url: `http://${HOST}:${appPort}${readPath}`, headers: { 'x-api-key': key } }],
    ['create (JWT)', {
      url: `http://${HOST}:${appPort}`,
      requests: [{
        method: 'POST',
        path: '/api/v1/workspaces',
        headers: { ...bearer, 'content-type': 'application/json' },
        // A fresh slug per request (warm-up included), so every request is a real insert + audit event.
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ slug: `b-${run}-${(n++).toString(36)}`, display_name: 'Bench write' }) }),
      }],
    }],
  ];

  const rows = [];
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    for (const [name, opts] of scenarios) {
      if (ONLY && !ONLY.has(name)) continue;
      rows.push(await load(name, opts, db));
    }
  } finally {
    await db.end();
  }

  await cleanup();
  cleanup = async () => {};

  const base = rows.find((r) => r.scenario === 'baseline');
  const md = table(rows, base);
  process.stdout.write(`\n${md}\n\n`);
  const cpus = os.cpus();
  const result = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpus.length, cpu_model: cpus[0] && cpus[0].model, memory_gb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version },
    settings: { duration_s: DURATION, warmup_s: WARMUP, connections: CONNECTIONS, pipelining: 1, db_pool_size: POOL_SIZE, log_level: 'warn', autocannon: require('autocannon/package.json').version },
    body_bytes: { app_read: appRead.bytes, baseline: baseRead.bytes },
    results: rows,
    markdown: md,
  };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path.relative(ROOT, RESULTS)}`);
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

main().then(
  () => process.exit(0),
  async (error) => {
    log(`failed: ${error && error.stack ? error.stack : error}`);
    await cleanup().catch(() => {});
    process.exit(1);
  },
);
