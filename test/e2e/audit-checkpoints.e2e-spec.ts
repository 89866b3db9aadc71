import request from 'supertest';
import { AuditService } from '../../src/modules/audit/audit.service';
import { auth, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Checkpoints are listed (and verify picks the latest) in the order they were written, past id 9. */
describe('audit checkpoints order (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    // The schedule is slowed down: the test seals when it wants to, one checkpoint per round.
    t = await createTestApp({ env: { AUDIT_SEAL_INTERVAL_MS: '600000' } });
    admin = await setupPlatform(t);
  });
  afterAll(() => t.close());

  it('newest first by id across 9 → 10 and beyond, pages continue below, and verify checks the newest', async () => {
    const audit = t.app.get(AuditService);
    for (let i = 0; i < 14; i++) {
      expect((await request(t.http).post('/api/v1/workspaces').set(auth(admin.token)).send({ slug: `order-${i}`, display_name: `O${i}` })).status).toBe(201);
      await audit.sealPending();
    }
    const all = await request(t.http).get('/api/v1/audit-events/checkpoints?limit=100').set(auth(admin.token));
    const seqs = (all.body.data as { seq: number }[]).map((c) => c.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(14);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

    const verify = await request(t.http).get('/api/v1/audit-events/verify').set(auth(admin.token));
    expect(verify.body).toMatchObject({ verified: true, unsealed: 0 });
    expect(seqs[0]).toBe(verify.body.checked);

    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(t.http)
        .get(`/api/v1/audit-events/checkpoints?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
        .set(auth(admin.token));
      paged.push(...(page.body.data as { seq: number }[]).map((c) => c.seq));
      cursor = page.body.pagination.next_cursor;
    } while (cursor);
    expect(paged).toEqual(seqs);
  });
});
