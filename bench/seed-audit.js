#!/usr/bin/env node
'use strict';
/**
 * Inserts N audit events for one tenant with one INSERT … SELECT FROM generate_series (not the API): the S6 table.
 * Ids are `aud_00…` + hex, below every real ULID, so they read as older than the events the app writes; times run
 * back from now one second apart; actions cycle through ten names (each filter value matches 1/10 of the rows);
 * actors through three users. The append-only triggers only refuse UPDATE/DELETE, so an INSERT is allowed; the
 * app's sealer then seals them (hash chain) in batches of AUDIT_SEAL_BATCH_SIZE: run.js waits until none is left
 * unsealed before measuring, and reports how long that took.
 *
 *   node bench/seed-audit.js <database-url> <tenant-id> [count=1000000]
 */
const { Client } = require('pg');

const ACTIONS = ['request.created', 'request.submitted', 'request.approved', 'request.approval_given', 'job.claimed', 'job.succeeded', 'secret.reported', 'workspace.updated', 'auth.login', 'authz.checked'];

async function seedAudit(databaseUrl, tenantId, count, actorIds = []) {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const started = Date.now();
    await db.query(
      `INSERT INTO audit_events (id, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, resource_type, resource_id, outcome, request_id, correlation_id, ip, user_agent, payload)
       SELECT 'aud_00' || lpad(upper(to_hex(g)), 24, '0'),
              now() - make_interval(secs => ($3::int - g)),
              $1, 'user',
              ($4::text[])[1 + g % greatest(1, cardinality($4::text[]))],
              'seeded-' || (g % 3),
              ($2::text[])[1 + g % 10],
              'request', 'req_00' || lpad(upper(to_hex(g / 4)), 24, '0'),
              CASE WHEN g % 50 = 0 THEN 'failure' ELSE 'success' END,
              md5(g::text), md5(g::text), '127.0.0.1', 'bench-seed',
              jsonb_build_object('n', g, 'note', 'seeded by bench/seed-audit.js')
         FROM generate_series(1, $3::int) g`,
      [tenantId, ACTIONS, count, actorIds.length ? actorIds : ['usr_seeded']],
    );
    const insertSeconds = (Date.now() - started) / 1000;
    await db.query('ANALYZE audit_events');
    return { inserted: count, insert_seconds: Number(insertSeconds.toFixed(1)) };
  } finally {
    await db.end();
  }
}

/** Waits until every audit event is sealed (bounded); returns the seconds waited. */
async function waitSealed(databaseUrl, timeoutMs, onProgress) {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const started = Date.now();
  try {
    for (;;) {
      const { rows: [r] } = await db.query(`SELECT (SELECT count(*) FROM audit_events) - (SELECT count(*) FROM audit_seals) AS n`);
      const left = Number(r.n);
      if (left <= 0) return Number(((Date.now() - started) / 1000).toFixed(1));
      if (Date.now() - started > timeoutMs) throw new Error(`audit sealing: ${left} events still unsealed after ${timeoutMs / 1000} s`);
      if (onProgress) onProgress(left);
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await db.end();
  }
}

module.exports = { seedAudit, waitSealed, ACTIONS };

if (require.main === module) {
  const [url, tenant, count] = process.argv.slice(2);
  if (!url || !tenant) {
    process.stderr.write('usage: node bench/seed-audit.js <database-url> <tenant-id> [count]\n');
    process.exit(2);
  }
  seedAudit(url, tenant, Number(count || 1_000_000)).then((r) => { process.stdout.write(`${JSON.stringify(r)}\n`); }, (e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
}
