import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

describe('idempotency (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let other: Session;

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await setupPlatform(t);
    owner = (await createTenant(t, admin, 'idem')).owner;
    other = (await createTenant(t, admin, 'idem-other')).owner;
  });
  afterAll(() => t.close());

  const count = async (sql: string, params: unknown[]) => {
    const c = await t.db.client();
    try {
      return Number((await c.query(sql, params)).rows[0].n);
    } finally {
      await c.end();
    }
  };

  it('50 concurrent POSTs with one key: one object, one audit event; the others replay byte for byte or get 409', async () => {
    const body = { slug: 'concurrent', display_name: 'Concurrent' };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'concurrent-key-1').send(body)),
    );
    const created = responses.filter((r) => r.status === 201);
    const inUse = responses.filter((r) => r.status === 409);
    expect(created.length + inUse.length).toBe(50);
    expect(created.length).toBeGreaterThanOrEqual(1);
    inUse.forEach((r) => expect(r.body.error.code).toBe('IDEMPOTENCY_KEY_IN_USE'));
    const first = created.find((r) => r.headers['x-idempotency-replayed'] === undefined)!;
    expect(created.filter((r) => r.headers['x-idempotency-replayed'] === undefined)).toHaveLength(1);
    created.forEach((r) => expect(r.text).toBe(first.text));

    expect(await count(`SELECT count(*) AS n FROM workspaces WHERE slug = 'concurrent'`, [])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM audit_events WHERE action = 'workspace.created' AND resource_id = $1`, [first.body.id])).toBe(1);

    const retry = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'concurrent-key-1').send(body);
    expect(retry.status).toBe(201);
    expect(retry.headers['x-idempotency-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(retry.headers['content-type']).toContain('application/json');
  });

  it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED', async () => {
    await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'reuse-key-1').send({ slug: 'reuse-a', display_name: 'A' }).expect(201);
    const res = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'reuse-key-1').send({ slug: 'reuse-b', display_name: 'B' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await count(`SELECT count(*) AS n FROM workspaces WHERE slug = 'reuse-b'`, [])).toBe(0);
  });

  it('keys are scoped to the principal', async () => {
    const a = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'shared-key-1').send({ slug: 'scoped', display_name: 'S' });
    const b = await request(t.http).post('/api/v1/workspaces').set(auth(other.token)).set('Idempotency-Key', 'shared-key-1').send({ slug: 'scoped', display_name: 'S' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers['x-idempotency-replayed']).toBeUndefined();
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('stores completed error outcomes (404) but not validation failures (400)', async () => {
    const missing = await request(t.http).patch('/api/v1/workspaces/wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B').set(auth(owner.token)).set('Idempotency-Key', 'notfound-key-1').send({ display_name: 'X' });
    expect(missing.status).toBe(404);
    const again = await request(t.http).patch('/api/v1/workspaces/wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B').set(auth(owner.token)).set('Idempotency-Key', 'notfound-key-1').send({ display_name: 'X' });
    expect(again.status).toBe(404);
    expect(again.headers['x-idempotency-replayed']).toBe('true');
    expect(again.text).toBe(missing.text);

    const invalid = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'invalid-key-1').send({ slug: 'BAD SLUG', display_name: 'x' });
    expect(invalid.status).toBe(400);
    const fixed = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'invalid-key-1').send({ slug: 'fixed', display_name: 'x' });
    expect(fixed.status).toBe(201);
  });

  it('a one-time secret is never replayed: the retry names the object instead', async () => {
    const first = await request(t.http).post('/api/v1/api-keys').set(auth(owner.token)).set('Idempotency-Key', 'secret-key-1').send({ name: 'once', permissions: ['workspace.read'] });
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(/^csk_/);
    const retry = await request(t.http).post('/api/v1/api-keys').set(auth(owner.token)).set('Idempotency-Key', 'secret-key-1').send({ name: 'once', permissions: ['workspace.read'] });
    expect(retry.status).toBe(409);
    expect(retry.body.error).toMatchObject({ code: 'IDEMPOTENCY_REPLAY_UNAVAILABLE', details: [{ resource_id: first.body.id }] });
    expect(retry.text).not.toContain(first.body.key);
    expect(await count(`SELECT count(*) AS n FROM api_keys WHERE name = 'once'`, [])).toBe(1);
    const c = await t.db.client();
    const stored = await c.query(`SELECT body FROM idempotency_keys WHERE key = 'secret-key-1'`);
    await c.end();
    expect(stored.rows[0].body).toBeNull();
  });

  it('rejects a malformed key', async () => {
    const res = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'x'.repeat(256)).send({ slug: 'long', display_name: 'L' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('Idempotency-Key');
  });

  it('record and effect commit together: a failure after the insert leaves neither, and the key can be retried', async () => {
    const c = await t.db.client();
    await c.query(`ALTER TABLE audit_events ADD CONSTRAINT fail_workspace_audit CHECK (action <> 'workspace.created') NOT VALID`);
    const failed = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'crash-key-1').send({ slug: 'crash', display_name: 'C' });
    expect(failed.status).toBe(500);
    expect(await count(`SELECT count(*) AS n FROM workspaces WHERE slug = 'crash'`, [])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM idempotency_keys WHERE key = 'crash-key-1'`, [])).toBe(0);
    await c.query(`ALTER TABLE audit_events DROP CONSTRAINT fail_workspace_audit`);
    await c.end();
    const retry = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'crash-key-1').send({ slug: 'crash', display_name: 'C' });
    expect(retry.status).toBe(201);
    expect(retry.headers['x-idempotency-replayed']).toBeUndefined();
  });
});

describe('idempotency across two instances (e2e)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await createTestApp({ db });
    b = await createTestApp({ db });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  it('a POST sent to instance A and retried on instance B replays', async () => {
    const owner = (await createTenant(a, await setupPlatform(a), 'twin')).owner;
    const first = await request(a.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'twin-key-1').send({ slug: 'twin', display_name: 'T' });
    const retry = await request(b.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Idempotency-Key', 'twin-key-1').send({ slug: 'twin', display_name: 'T' });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers['x-idempotency-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
  });
});
