#!/usr/bin/env node
'use strict';
/**
 * `npm run soak`: Countersign under ordinary use for a fixed time, then the checks a user would make.
 *
 * Starts the server as `npm start` does (scripts/start.js: builds when stale, embedded PostgreSQL) on a throw-away
 * DATA_DIR, enrolls the reference agent on a folder of secret files, and runs SOAK_USERS users in a loop for
 * SOAK_SECONDS: read requests approved by an approver, executed by the agent and revealed once (a second reveal must
 * be 410), patch requests whose new value must land in the file, list calls, discovery jobs, and hostile input (NUL
 * bytes, deep nesting, prototype keys, unknown routes, missing credentials, other tenants' ids) that must answer 4xx.
 * Then: zero error/fatal log lines, zero 5xx, every request in a final state with no failed or dead job, every audit
 * event older than the sealing interval sealed and /audit-events/verify green, RSS not growing in the second half.
 * Prints the figures; exits 1 when a check fails. All traffic goes to 127.0.0.1; every wait is bounded.
 *
 * Env: SOAK_SECONDS (default 120), SOAK_USERS (default 4), SOAK_BCRYPT_COST (default 8), SOAK_KEEP_DATA=1 (keep the
 * temp folder).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { HOST, freePort, positiveIntEnv, sleep } = require('./lib/harness');

const ROOT = path.resolve(__dirname, '..');
const SECONDS = positiveIntEnv('SOAK_SECONDS', 120);
const USERS = positiveIntEnv('SOAK_USERS', 4);
const SEAL_INTERVAL_MS = 1000;
const FINAL = new Set(['completed', 'failed', 'rejected', 'cancelled', 'expired', 'rolled_back']);
const PASSWORD = 'soak password 1234';

/** pino writes levels as labels here ("info", "error") and as numbers by default (30, 50): accept both. */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const levelAtLeast = (level, name) => (typeof level === 'number' ? level : (LEVELS[level] ?? 0)) >= LEVELS[name];

const say = (msg) => process.stdout.write(`soak: ${msg}\n`);
/** For races against an exit: a timer that does not keep the process alive once the other side has won. */
const deadlineOf = (ms) => new Promise((r) => setTimeout(r, ms).unref()).then(() => null);
const fmt = (n) => n.toLocaleString('en-US');
const mb = (bytes) => `${Math.round(bytes / 1048576)} MB`;

/** Counts every answer the soak gets, by status class; a 5xx is a failure wherever it comes from. */
const stats = { requests: 0, byClass: {}, fiveXx: [], unexpected: [], readFlows: 0, patchFlows: 0, hostile: 0, discoveries: 0 };

function api(port) {
  return async function call(method, urlPath, { token, body, raw, headers = {}, expect } = {}) {
    const res = await fetch(`http://${HOST}:${port}${urlPath}`, {
      method,
      headers: {
        ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? (token.startsWith('csk_') ? { 'x-api-key': token } : { authorization: `Bearer ${token}` }) : {}),
        ...headers,
      },
      body: raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    stats.requests++;
    const cls = `${Math.floor(res.status / 100)}xx`;
    stats.byClass[cls] = (stats.byClass[cls] ?? 0) + 1;
    if (res.status >= 500) stats.fiveXx.push(`${method} ${urlPath} → ${res.status} ${text.slice(0, 200)}`);
    if (expect !== undefined) {
      const ok = typeof expect === 'function' ? expect(res.status) : res.status === expect;
      if (!ok) stats.unexpected.push(`${method} ${urlPath} → ${res.status} (expected ${typeof expect === 'function' ? 'other' : expect}) ${text.slice(0, 200)}`);
    }
    return { status: res.status, json, text };
  };
}

async function until(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** The API server: scripts/start.js (as `npm start`), its JSON log lines kept for the checks. */
function startServer(env) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const stderr = [];
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop();
    for (const line of parts) if (line.trim()) lines.push(line);
  });
  child.stderr.on('data', (chunk) => stderr.push(...String(chunk).split('\n').filter((l) => l.trim())));
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = { code, signal }))));
  return { child, lines, stderr, exit, alive: () => exited === null };
}

function startAgent(port, dir, token) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'agent', 'main.js'), '--url', `http://${HOST}:${port}`, '--dir', dir, '--wait', '5', '--heartbeat', '5', '--name', 'soak-agent', '--cluster', 'soak'], {
    cwd: ROOT,
    env: { ...process.env, COUNTERSIGN_ENROLL_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  child.stdout.on('data', (c) => lines.push(...String(c).split('\n').filter((l) => l.trim())));
  child.stderr.on('data', (c) => lines.push(...String(c).split('\n').filter((l) => l.trim())));
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, lines, exit };
}

/** RSS of the server process (the child of scripts/start.js running dist/src/main.js). */
function serverPid(wrapperPid) {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === wrapperPid && fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('main.js')) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return null;
}

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-soak-'));
  // As root the embedded PostgreSQL runs as the `postgres` user, who must be able to traverse (not list) this folder.
  fs.chmodSync(dataDir, 0o711);
  const secretsDir = path.join(dataDir, 'agent', 'secrets');
  fs.mkdirSync(secretsDir, { recursive: true });
  const port = await freePort();
  const pgPort = await freePort();
  const started = Date.now();
  const failures = [];
  let server;
  let agent;
  try {
    server = startServer({
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: '',
      REDIS_URL: '',
      DATA_DIR: path.join(dataDir, 'data'),
      PORT: String(port),
      HOST,
      EMBEDDED_PG_PORT: String(pgPort),
      LOG_LEVEL: 'info',
      AUDIT_SEAL_INTERVAL_MS: String(SEAL_INTERVAL_MS),
      // Several users share one IP and a loop runs far faster than people click: the limits are raised so the soak
      // measures the service, not the limiter (which has its own tests).
      RATE_LIMIT_AUTH: '100000',
      // Logins are a small part of the workload; a cheaper hash keeps start-up short so short soaks (CI, 20 s) spend
      // their time under load. Set SOAK_BCRYPT_COST=12 for the production cost.
      BCRYPT_COST: process.env.SOAK_BCRYPT_COST ?? '8',
      RATE_LIMIT_DEFAULT: '1000000',
      RATE_LIMIT_AGENT: '1000000',
    });
    const call = api(port);
    await until('server ready', 90_000, async () => {
      if (!server.alive()) return 'exited';
      return (await call('GET', '/readyz')).status === 200;
    }).then((state) => {
      if (state === 'exited') throw new Error('server exited before it was ready');
    }).catch((error) => {
      throw new Error(`${error.message}\n${server.stderr.slice(-10).join('\n')}\n${server.lines.slice(-10).join('\n')}`);
    });
    const pid = serverPid(server.child.pid);
    const readySeconds = (Date.now() - started) / 1000;

    // ---- the README walk-through, once: admin, tenant, owner, workspace, roles, users, agent, secrets
    await call('POST', '/api/v1/auth/setup', { body: { email: 'admin@soak.example', password: PASSWORD, name: 'Admin' }, expect: 201 });
    const login = async (email) => (await call('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, expect: 200 })).json.access_token;
    const admin = await login('admin@soak.example');
    const tenant = await call('POST', '/api/v1/tenants', { token: admin, body: { slug: 'soak', display_name: 'Soak', plan: 'team', admin_email: 'owner@soak.example' }, expect: 201 });
    await call('POST', '/api/v1/auth/accept-invitation', { body: { token: tenant.json.admin_invitation_token, password: PASSWORD, name: 'Owner' }, expect: 200 });
    const owner = await login('owner@soak.example');
    const ws = (await call('POST', '/api/v1/workspaces', { token: owner, body: { slug: 'payments', display_name: 'Payments', capabilities: ['file'] }, expect: 201 })).json.id;
    await call('POST', `/api/v1/workspaces/${ws}/environments`, { token: owner, body: { name: 'prod', protected: true }, expect: 201 });
    const roles = (await call('GET', '/api/v1/roles?limit=200', { token: owner, expect: 200 })).json.data;
    const roleId = (name) => roles.find((r) => r.name === name).id;
    const addUser = async (email, role, scopeType) => {
      const user = (await call('POST', '/api/v1/users', { token: owner, body: { email, name: email.split('@')[0], password: PASSWORD }, expect: 201 })).json;
      await call('POST', '/api/v1/user-roles', { token: owner, body: { user_id: user.id, role_id: roleId(role), scope_type: scopeType, scope_id: scopeType === 'tenant' ? tenant.json.id : ws }, expect: 201 });
      return login(email);
    };
    const approver = await addUser('approver@soak.example', 'approver', 'tenant');
    const requesters = [];
    for (let i = 0; i < USERS; i++) {
      fs.mkdirSync(path.join(secretsDir, 'app'), { recursive: true });
      fs.writeFileSync(path.join(secretsDir, 'app', `user-${i}`), `initial-${i}`, { mode: 0o600 });
      requesters.push(await addUser(`user${i}@soak.example`, 'requester', 'workspace'));
    }
    const enroll = await call('POST', '/api/v1/agents/enrollment-tokens', { token: owner, body: { workspace_id: ws }, expect: 201 });
    agent = startAgent(port, secretsDir, enroll.json.token);
    const discover = async () => {
      stats.discoveries++;
      await call('POST', '/api/v1/jobs', { token: owner, body: { type: 'discovery.run', capability: 'file', workspace_id: ws }, expect: 201 });
    };
    await discover();
    const secrets = await until('secrets discovered', 60_000, async () => {
      const list = (await call('GET', '/api/v1/secrets?ref_prefix=app/&limit=200', { token: owner })).json?.data ?? [];
      return list.length === USERS ? Object.fromEntries(list.map((s) => [s.ref, s.id])) : undefined;
    });
    // A second tenant's object, for "other tenants' ids" (must be 404, never 403 or 200).
    const otherWorkspace = (await call('GET', '/api/v1/workspaces?limit=1', { token: admin })).json?.data?.[0]?.id ?? 'wsp_00000000000000000000000000';

    const setupSeconds = (Date.now() - started) / 1000;
    const loadStart = Date.now();
    const deadline = loadStart + SECONDS * 1000;
    const rss = [];
    const sampler = setInterval(() => {
      const value = pid ? rssOf(pid) : null;
      if (value) rss.push({ t: Date.now() - loadStart, rss: value });
    }, 500);
    let lastDiscovery = Date.now();

    const waitFinal = (token, id) =>
      until(`request ${id} final`, 60_000, async () => {
        const r = await call('GET', `/api/v1/requests/${id}`, { token, expect: 200 });
        return FINAL.has(r.json.status) ? r.json : undefined;
      });

    const hostile = async (token) => {
      stats.hostile++;
      const four = (s) => s >= 400 && s < 500;
      await call('GET', '/api/v1/workspaces/wsp_%00x', { token, expect: 400 });
      await call('GET', '/api/v1/requests?status=pending%00', { token, expect: four });
      await call('POST', '/api/v1/requests/read', { token, body: { secret_id: 'sec_x', reason: 'nul \u0000 inside' }, expect: 400 });
      await call('POST', '/api/v1/workspaces', { token, raw: `${'['.repeat(5000)}${']'.repeat(5000)}`, expect: 400 });
      await call('POST', '/api/v1/workspaces', { token, raw: '{"__proto__":{"admin":true},"slug":"x","display_name":"X"}', expect: four });
      await call('POST', '/api/v1/workspaces', { token, raw: '{"slug":', expect: 400 });
      await call('GET', '/api/v1/no-such-route', { token, expect: 404 });
      await call('GET', '/api/v1/requests', { expect: 401 });
      await call('GET', `/api/v1/workspaces/${otherWorkspace}`, { token: owner, expect: 404 });
    };

    const userLoop = async (i) => {
      const me = requesters[i];
      const secretId = secrets[`app/user-${i}`];
      let expected = `initial-${i}`;
      for (let n = 0; Date.now() < deadline; n++) {
        if (n % 3 === 2) {
          const value = `patched-${i}-${n}`;
          const created = await call('POST', '/api/v1/requests', { token: me, body: { type: 'secret.patch', title: `rotate db ${i}`, reason: 'scheduled rotation', secret_id: secretId, value }, expect: 201 });
          await call('POST', `/api/v1/requests/${created.json.id}/approve`, { token: approver, body: {}, expect: 200 });
          const done = await waitFinal(me, created.json.id);
          if (done.status !== 'completed') failures.push(`patch ${created.json.id} ended ${done.status}`);
          const onDisk = fs.readFileSync(path.join(secretsDir, 'app', `user-${i}`), 'utf8');
          if (onDisk !== value) failures.push(`patch ${created.json.id}: file holds another value`);
          else expected = value;
          stats.patchFlows++;
        } else {
          const created = await call('POST', '/api/v1/requests/read', { token: me, body: { secret_id: secretId, reason: 'debugging the payment outage' }, expect: 201 });
          await call('POST', `/api/v1/requests/${created.json.id}/approve`, { token: approver, body: { comment: 'ok' }, expect: 200 });
          const done = await waitFinal(me, created.json.id);
          if (done.status !== 'completed') {
            failures.push(`read ${created.json.id} ended ${done.status}`);
            continue;
          }
          const wraps = await call('GET', `/api/v1/requests/${created.json.id}/wraps`, { token: me, expect: 200 });
          const wrapId = wraps.json.data[0].id;
          const revealed = await call('GET', `/api/v1/requests/${created.json.id}/wraps/${wrapId}`, { token: me, expect: 200 });
          if (revealed.json?.value !== expected) failures.push(`read ${created.json.id}: revealed another value`);
          await call('GET', `/api/v1/requests/${created.json.id}/wraps/${wrapId}`, { token: me, expect: 410 });
          stats.readFlows++;
        }
        await call('GET', '/api/v1/requests?limit=20', { token: me, expect: 200 });
        await call('GET', '/api/v1/approvals', { token: approver, expect: 200 });
        await call('GET', '/api/v1/audit-events?limit=10', { token: owner, expect: 200 });
        await hostile(me);
        if (i === 0 && Date.now() - lastDiscovery > 5000) {
          lastDiscovery = Date.now();
          await discover();
        }
      }
    };
    await Promise.all(requesters.map((_, i) => userLoop(i).catch((error) => failures.push(`user ${i}: ${error.message}`))));
    const loadSeconds = (Date.now() - loadStart) / 1000;
    clearInterval(sampler);

    // ---- after the load: let the sealer pass once more, then check what a user would check
    await sleep(SEAL_INTERVAL_MS * 2 + 500);
    const db = new Client({ connectionString: `postgres://postgres:${encodeURIComponent(fs.readFileSync(path.join(dataDir, 'data', 'pg-password'), 'utf8').trim())}@${HOST}:${pgPort}/countersign` });
    await db.connect();
    const q = async (sql, params) => (await db.query(sql, params)).rows;
    const [{ events, sealed, old_unsealed: oldUnsealed }] = await q(
      `SELECT count(*)::int AS events,
              count(s.event_id)::int AS sealed,
              count(*) FILTER (WHERE s.event_id IS NULL AND e.occurred_at < now() - make_interval(secs => $1))::int AS old_unsealed
         FROM audit_events e LEFT JOIN audit_seals s ON s.event_id = e.id`,
      [(SEAL_INTERVAL_MS * 2) / 1000],
    );
    for (const [who, token] of [['soak', owner], ['default', admin]]) {
      const v = await call('GET', '/api/v1/audit-events/verify', { token, expect: 200 });
      if (!v.json?.verified) failures.push(`verify (${who} tenant): ${JSON.stringify(v.json)}`);
    }
    if (oldUnsealed > 0) failures.push(`${oldUnsealed} audit events older than ${(SEAL_INTERVAL_MS * 2) / 1000} s are not sealed`);
    const requestStates = await q(`SELECT status, count(*)::int AS n FROM requests GROUP BY status ORDER BY status`);
    const stuck = requestStates.filter((r) => !FINAL.has(r.status)).reduce((n, r) => n + r.n, 0);
    const failedRequests = requestStates.filter((r) => r.status === 'failed').reduce((n, r) => n + r.n, 0);
    const jobStates = await q(`SELECT status, count(*)::int AS n FROM jobs GROUP BY status ORDER BY status`);
    const jobsSucceeded = jobStates.find((r) => r.status === 'succeeded')?.n ?? 0;
    const badJobs = jobStates.filter((r) => r.status === 'failed' || r.status === 'dead').reduce((n, r) => n + r.n, 0);
    await db.end();
    if (stuck > 0) failures.push(`${stuck} requests not in a final state: ${JSON.stringify(requestStates)}`);
    if (failedRequests > 0) failures.push(`${failedRequests} requests failed`);
    if (badJobs > 0) failures.push(`jobs failed or dead: ${JSON.stringify(jobStates)}`);
    if (stats.fiveXx.length) failures.push(`${stats.fiveXx.length} answers were 5xx, e.g. ${stats.fiveXx.slice(0, 3).join(' | ')}`);
    if (stats.unexpected.length) failures.push(`${stats.unexpected.length} unexpected statuses, e.g. ${stats.unexpected.slice(0, 3).join(' | ')}`);

    const parsed = server.lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    });
    const errorLines = server.lines.filter((_, i) => parsed[i] && levelAtLeast(parsed[i].level, 'error'));
    // 4xx answers are logged at warn by the access log (they carry `req`); other warnings are the ones worth reading.
    const warnings = parsed.filter((p) => p && levelAtLeast(p.level, 'warn') && !levelAtLeast(p.level, 'error'));
    const ownWarnings = warnings.filter((p) => !p.req);
    const warnLines = ownWarnings.length;
    // The warnings worth reading, by message, so a run's report names them.
    const warnMessages = {};
    for (const p of ownWarnings) {
      const msg = String(p.msg).slice(0, 120);
      warnMessages[msg] = (warnMessages[msg] ?? 0) + 1;
    }
    const clientErrorLines = warnings.length - warnLines;
    if (errorLines.length) failures.push(`${errorLines.length} error/fatal log lines, e.g. ${errorLines.slice(0, 2).map((l) => l.slice(0, 300)).join(' | ')}`);
    if (server.stderr.length) failures.push(`server wrote to stderr: ${server.stderr.slice(0, 3).join(' | ')}`);
    if (failures.length === 0 && !agent.lines.some((l) => /"level":"?(info|30)/.test(l))) failures.push('the agent logged nothing');

    const half = rss.filter((s) => s.t >= (loadSeconds * 1000) / 2);
    const rssStart = rss[0]?.rss ?? 0;
    const rssMid = half[0]?.rss ?? 0;
    const rssEnd = rss[rss.length - 1]?.rss ?? 0;
    const rssPeak = Math.max(0, ...rss.map((s) => s.rss));
    // "Not growing": the end of the run within 25 % (or 32 MB, for short runs) of where the second half began.
    if (rssMid && rssEnd > Math.max(rssMid * 1.25, rssMid + 32 * 1048576)) failures.push(`RSS grew in the second half: ${mb(rssMid)} → ${mb(rssEnd)}`);

    // ---- stop like an operator does, and check it stops cleanly
    agent.child.kill('SIGTERM');
    const agentExit = await Promise.race([agent.exit, deadlineOf(15_000)]);
    if (!agentExit || agentExit.code !== 0) failures.push(`agent did not stop cleanly on SIGTERM: ${JSON.stringify(agentExit)}`);
    server.child.kill('SIGTERM');
    const serverExit = await Promise.race([server.exit, deadlineOf(30_000)]);
    if (!serverExit || serverExit.code !== 0) failures.push(`server did not stop cleanly on SIGTERM: ${JSON.stringify(serverExit)}`);

    say(`${loadSeconds.toFixed(1)} s of load (after ${readySeconds.toFixed(1)} s to ready and ${(setupSeconds - readySeconds).toFixed(1)} s of setup), ${USERS} users: ${fmt(stats.requests)} HTTP requests (${Object.entries(stats.byClass).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}), ${stats.readFlows} reads revealed once, ${stats.patchFlows} patches written, ${stats.hostile} hostile rounds`);
    say(`jobs: ${jobStates.map((r) => `${r.status} ${r.n}`).join(', ')} (${jobsSucceeded} succeeded); requests: ${requestStates.map((r) => `${r.status} ${r.n}`).join(', ')}`);
    say(`audit: ${fmt(sealed)} of ${fmt(events)} events sealed (${oldUnsealed} older than ${(SEAL_INTERVAL_MS * 2) / 1000} s unsealed), verify green in ${failures.some((f) => f.startsWith('verify')) ? 'not all' : 'both'} tenants`);
    say(`log: ${errorLines.length} error/fatal lines, ${warnLines} warnings${warnLines ? ` ${JSON.stringify(warnMessages)}` : ''} (+ ${clientErrorLines} access lines of 4xx answers), ${server.lines.length} lines; RSS start ${mb(rssStart)}, second half from ${mb(rssMid)}, end ${mb(rssEnd)}, peak ${mb(rssPeak)}`);
    if (failures.length) {
      for (const f of failures) say(`FAIL ${f}`);
      process.exitCode = 1;
    } else {
      say('PASS: no 5xx, no error log line, every request final, every old event sealed, RSS flat');
    }
  } finally {
    agent?.child.kill('SIGKILL');
    if (server?.alive()) {
      server.child.kill('SIGTERM');
      await Promise.race([server.exit, deadlineOf(20_000)]);
      if (server.alive()) server.child.kill('SIGKILL');
    }
    if (process.env.SOAK_KEEP_DATA !== '1') fs.rmSync(dataDir, { recursive: true, force: true });
    else say(`data kept in ${dataDir}`);
  }
}

main().catch((error) => {
  say(`FAIL ${error.stack ?? error}`);
  process.exit(1);
});
