#!/usr/bin/env node
'use strict';
/**
 * Prints the SQL the app runs for one request of each scenario, so that the same-work baselines
 * (bench/baselines/same-work.js) can be checked against it: `node bench/capture-sql.js` (needs a PostgreSQL where
 * this user may create a database and that logs to a readable file; defaults: CAPTURE_DATABASE_URL =
 * postgres://postgres@127.0.0.1:5432/postgres, CAPTURE_LOG = /var/log/postgresql/postgresql-15-main.log).
 * Creates a scratch database with `log_statement = all`, runs the app on it, seeds, sends each request once and
 * prints the log lines each one produced. Drops the database at the end.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { HOST, freePort, sleep } = require('../scripts/lib/harness');
const { log, startApp } = require('./lib/app');
const { request } = require('./lib/http');
const { seedWorld, bearer, createBody } = require('./lib/seed');

const ADMIN_URL = process.env.CAPTURE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const LOG_FILE = process.env.CAPTURE_LOG || '/var/log/postgresql/postgresql-15-main.log';

async function main() {
  const dbName = `bench_capture_${Date.now().toString(36)}`;
  const adminDb = new Client({ connectionString: ADMIN_URL });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${dbName}`);
  await adminDb.query(`ALTER DATABASE ${dbName} SET log_statement = 'all'`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-capture-'));
  const port = await freePort();
  const env = { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir, HOST, PORT: String(port), DATABASE_URL: url.toString(), REDIS_URL: '', LOG_LEVEL: 'warn', RATE_LIMIT_DEFAULT: '1000000', RATE_LIMIT_AUTH: '100000', RATE_LIMIT_AGENT: '1000000', AUDIT_SEAL_INTERVAL_MS: '600000', JWT_SECRET: 'bench-jwt-secret-0123456789-abcdefghijklmnop' };
  const app = await startApp(env);
  try {
    const w = await seedWorld(port, { agents: 1 });
    const steps = [
      ['S1 GET request (JWT)', () => request(port, 'GET', `/api/v1/requests/${w.targetRequestId}`, { headers: bearer(w.alice.token) })],
      ['S1b GET request (API key)', () => request(port, 'GET', `/api/v1/requests/${w.targetRequestId}`, { headers: { 'x-api-key': w.apiKey } })],
      ['S2 create (Idempotency-Key)', () => request(port, 'POST', '/api/v1/requests', { headers: { ...bearer(w.alice.token), 'idempotency-key': 'capture-1' }, body: createBody(w.secretId) })],
      ['S3 approve', () => request(port, 'POST', `/api/v1/requests/${w.targetRequestId}/approve`, { headers: bearer(w.bob.token), body: {} })],
      ['S5 authz check', () => request(port, 'POST', '/api/v1/authz/check', { headers: bearer(w.admin.token), body: { principal: { type: 'user', id: w.alice.userId }, permission: 'request.create', resource: { type: 'workspace', id: w.workspaceId } } })],
      ['S6 audit list', () => request(port, 'GET', '/api/v1/audit-events?action=request.created&limit=50', { headers: bearer(w.admin.token) })],
      ['S4 claim', () => request(port, 'POST', `/api/v1/agents/${w.agent.id}/jobs/claim`, { headers: { 'x-agent-secret': w.agent.secret }, body: {} })],
    ];
    let claimed;
    for (const [name, run] of steps) {
      await sleep(1500);
      const from = fs.statSync(LOG_FILE).size;
      const res = await run();
      if (name === 'S4 claim') claimed = res.json;
      await sleep(1500);
      const to = fs.statSync(LOG_FILE).size;
      const fd = fs.openSync(LOG_FILE, 'r');
      const buf = Buffer.alloc(to - from);
      fs.readSync(fd, buf, 0, buf.length, from);
      fs.closeSync(fd);
      process.stdout.write(`\n===== ${name} → ${res.status}\n${buf.toString('utf8')}`);
    }
    if (claimed) {
      const from = fs.statSync(LOG_FILE).size;
      const res = await request(port, 'POST', `/api/v1/agents/${w.agent.id}/jobs/${claimed.id}/complete`, { headers: { 'x-agent-secret': w.agent.secret }, body: { lease_token: claimed.lease_token, status: 'succeeded' } });
      await sleep(1500);
      const buf = fs.readFileSync(LOG_FILE).subarray(from);
      process.stdout.write(`\n===== S4 complete → ${res.status}\n${buf.toString('utf8')}`);
    }
  } finally {
    await app.stop(30_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
    await adminDb.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await adminDb.end();
  }
}

main().then(() => process.exit(0), (e) => { log(`failed: ${e.stack || e}`); process.exit(1); });
