import request from 'supertest';
import { AuditService } from '../../src/modules/audit/audit.service';
import { auth, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * A logical dump (pg_dump) restored into another PostgreSQL cluster keeps each audit event's `txid`, which can be far
 * above the new cluster's transaction counter. Events that were not yet sealed when the dump was taken must still be
 * sealed at once (docs/operations.md, "Backup and restore", external database).
 */
describe('audit events restored from another cluster (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    // The schedule is slowed down: the test seals when it wants to.
    t = await createTestApp({ env: { AUDIT_SEAL_INTERVAL_MS: '600000' } });
    admin = await setupPlatform(t);
  });
  afterAll(() => t.close());

  it('an unsealed event whose txid is ahead of this cluster is sealed by the next run, and verify covers it', async () => {
    await t.app.get(AuditService).sealPending();
    const c = await t.db.client();
    try {
      // As pg_restore writes it: a committed row carrying the txid of the cluster it was dumped from.
      await c.query(
        `INSERT INTO audit_events (id, tenant_id, actor_type, action, resource_type, outcome, payload, txid)
         VALUES ('aud_zzzzzzzzzzzzzzzzzzzzzzzzzz', $1, 'system', 'restore.check', 'test', 'success', '{}', (pg_current_xact_id()::text::bigint + 10000000)::text::xid8)`,
        [admin.tenantId],
      );
    } finally {
      await c.end();
    }
    const before = await request(t.http).get('/api/v1/audit-events/verify').set(auth(admin.token));
    expect(before.body.unsealed).toBeGreaterThanOrEqual(1);

    await t.app.get(AuditService).sealPending();
    const after = await request(t.http).get('/api/v1/audit-events/verify').set(auth(admin.token));
    expect(after.body).toMatchObject({ verified: true, unsealed: 0, first_invalid_id: null });
    expect(after.body.checked).toBe(before.body.checked + before.body.unsealed);
  });
});
