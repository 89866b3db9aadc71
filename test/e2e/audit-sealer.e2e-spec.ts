import request from 'supertest';
import { AuditService } from '../../src/modules/audit/audit.service';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';

/**
 * The sealer as it runs in production: on its own schedule (every 100 ms here), in small batches (7 events), while
 * direct calls race it, across the sequence numbers where a text sort goes wrong (9 → 10, 99 → 100) and across
 * several batches. Regression: `chainHead` sorted seq as text, so after ~10 events per tenant the sealer re-inserted
 * the same seq once a second forever and every later event stayed unprotected while /verify said `verified: true`.
 */
describe('audit sealer (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  let owner: Session;
  let tenantId: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { AUDIT_SEAL_INTERVAL_MS: '100', AUDIT_SEAL_BATCH_SIZE: '7', RATE_LIMIT_DEFAULT: '100000' } });
    admin = await setupPlatform(t);
    ({ owner, tenantId } = await createTenant(t, admin, 'sealed'));
  });
  afterAll(() => t.close());

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> => {
    const c = await t.db.client();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };

  const verify = async () => (await request(t.http).get('/api/v1/audit-events/verify').set(auth(owner.token)).expect(200)).body;

  /** Polls (no fixed sleep: the machine may be busy) until every event of the tenant is sealed. */
  const untilSealed = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const v = await verify();
      if (v.unsealed === 0) return v;
      if (Date.now() > deadline) {
        const stuck = await sql(`SELECT e.id, e.action, e.tenant_id, e.txid::text, e.occurred_at FROM audit_events e WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)`);
        throw new Error(`still unsealed after 60 s: ${JSON.stringify(v)} ${JSON.stringify(stuck)} watermark=${t.app.get(AuditService)['sealWatermark']}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('seals every event past seq 10 and 100 and across batches, with direct calls racing the schedule, logging no error', async () => {
    const sealer = t.app.get(AuditService);
    const racing: Promise<number>[] = [];
    for (let i = 0; i < 130; i++) {
      await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: `w-${i}`, display_name: `W ${i}` }).expect(201);
      if (i % 10 === 0) racing.push(sealer.sealPending(), sealer.sealPending());
    }
    await Promise.all(racing);

    const result = await untilSealed();
    const [{ n: total }] = await sql<{ n: string }>(`SELECT count(*)::text AS n FROM audit_events WHERE tenant_id = $1`, [tenantId]);
    const [{ max: maxSeq }] = await sql<{ max: string }>(`SELECT max(s.seq)::text AS max FROM audit_seals s JOIN audit_events e ON e.id = s.event_id WHERE e.tenant_id = $1`, [tenantId]);
    expect(Number(total)).toBeGreaterThan(130);
    expect(result).toMatchObject({ verified: true, first_invalid_id: null, unsealed: 0, oldest_unsealed_at: null });
    // /verify itself is audited once it answers, so "checked" may trail the count by the verify calls made meanwhile.
    expect(result.checked).toBeGreaterThanOrEqual(Number(total) - 1);
    expect(Number(maxSeq)).toBeGreaterThan(100);
    // Seq is gapless per chain and every seal links to the one before it.
    const [{ gaps }] = await sql<{ gaps: string }>(
      `SELECT count(*)::text AS gaps FROM (SELECT seq, lag(seq) OVER (ORDER BY seq) AS prev, prev_hash, lag(hash) OVER (ORDER BY seq) AS prev_of
         FROM audit_seals WHERE chain = (SELECT chain FROM audit_seals s JOIN audit_events e ON e.id = s.event_id WHERE e.tenant_id = $1 LIMIT 1)) x
        WHERE prev IS NOT NULL AND (seq <> prev + 1 OR prev_hash <> prev_of)`,
      [tenantId],
    );
    expect(gaps).toBe('0');

    // Levels are labels in our logs ("error"), numbers in pino's default (50): either counts.
    const errors = t.logs.parsed().filter((l) => ['error', 'fatal'].includes(String(l.level)) || Number(l.level) >= 50);
    expect(errors).toEqual([]);

    const metrics = await request(t.http).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/countersign_background_task_runs_total\{task="audit-sealer",outcome="success"\} [1-9]/);
    expect(metrics.text).not.toMatch(/countersign_background_task_runs_total\{task="audit-sealer",outcome="failure"\}/);
    expect(metrics.text).toMatch(/countersign_audit_unsealed_events \d+/);

    const health = await request(t.http).get('/api/v1/health').expect(200);
    const task = (health.body.background as { task: string; status: string; consecutive_failures: number }[]).find((b) => b.task === 'audit-sealer');
    expect(task).toMatchObject({ status: 'ok', consecutive_failures: 0 });
  });

  it('names an event deleted after sealing; an unsealed event is counted, not silently trusted', async () => {
    const before = await untilSealed();
    expect(before.verified).toBe(true);
    const [victim] = await sql<{ id: string }>(`SELECT id FROM audit_events WHERE tenant_id = $1 AND action = 'workspace.created' ORDER BY id DESC LIMIT 1`, [tenantId]);
    const c = await t.db.client();
    try {
      await c.query(`SET session_replication_role = replica`);
      await c.query(`DELETE FROM audit_events WHERE id = $1`, [victim.id]);
    } finally {
      await c.end();
    }
    const after = await verify();
    expect(after).toMatchObject({ verified: false, first_invalid_id: victim.id });
  });
});
