import * as http from 'node:http';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createPublicKey, verify } from 'node:crypto';
import request from 'supertest';
import { AuditService } from '../../src/modules/audit/audit.service';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createMember, createTenant, login, Session, setupPlatform } from '../helpers/identity';

describe('audit (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  let owner: Session;
  let tenantId: string;

  beforeAll(async () => {
    // The tests seal explicitly (sealPending); the schedule stays out of the way of the 100k-event export below, which
    // is about the export's memory, not the sealer's throughput (test/e2e/audit-sealer.e2e-spec.ts covers the schedule).
    t = await createTestApp({ env: { AUDIT_SEAL_INTERVAL_MS: '600000' } });
    admin = await setupPlatform(t);
    ({ owner, tenantId } = await createTenant(t, admin, 'audited'));
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
  const eventsFor = async (requestId: string) =>
    (await request(t.http).get(`/api/v1/audit-events?request_id=${requestId}`).set(auth(owner.token))).body.data as { action: string; actor: { type: string; id: string }; correlation_id: string; resource_id: string; payload: Record<string, unknown> }[];

  it('every mutation writes exactly one event, with actor, ids and a redacted payload', async () => {
    const as = auth(owner.token);
    let n = 0;
    const step = async (expected: string, call: (rid: string) => Promise<request.Response>) => {
      const rid = `audit-step-${++n}`;
      const res = await call(rid);
      expect(res.status).toBeLessThan(300);
      const events = await eventsFor(rid);
      expect(events.map((e) => e.action)).toEqual([expected]);
      expect(events[0].actor).toMatchObject({ type: 'user', id: owner.userId });
      expect(events[0].correlation_id).toBe('corr-audit-flow');
      return res;
    };
    const go = (rid: string) => ({ ...as, 'X-Request-ID': rid, 'X-Correlation-Id': 'corr-audit-flow' });

    const ws = await step('workspace.created', (rid) => request(t.http).post('/api/v1/workspaces').set(go(rid)).send({ slug: 'pay', display_name: 'Pay' }));
    await step('workspace.updated', (rid) => request(t.http).patch(`/api/v1/workspaces/${ws.body.id}`).set(go(rid)).send({ display_name: 'Payments' }));
    const env = await step('environment.created', (rid) => request(t.http).post(`/api/v1/workspaces/${ws.body.id}/environments`).set(go(rid)).send({ name: 'dev' }));
    const role = await step('role.created', (rid) => request(t.http).post('/api/v1/roles').set(go(rid)).send({ name: 'r1', permissions: ['workspace.read'] }));
    await step('role.permissions_replaced', (rid) => request(t.http).put(`/api/v1/roles/${role.body.id}/permissions`).set(go(rid)).send({ permissions: ['workspace.read', 'role.read'] }));
    const user = await step('user.added', (rid) => request(t.http).post('/api/v1/users').set(go(rid)).send({ email: 'dan@audited.example', name: 'Dan', password: 'dan password 1234' }));
    await step('user.invited', (rid) => request(t.http).post('/api/v1/users').set(go(rid)).send({ email: 'eve@audited.example', name: 'Eve' }));
    const ura = await step('role.assigned', (rid) => request(t.http).post('/api/v1/user-roles').set(go(rid)).send({ user_id: user.body.id, role_id: role.body.id, scope_type: 'workspace', scope_id: ws.body.id }));
    await step('role.unassigned', (rid) => request(t.http).delete(`/api/v1/user-roles/${ura.body.id}`).set(go(rid)));
    await step('role.deleted', (rid) => request(t.http).delete(`/api/v1/roles/${role.body.id}`).set(go(rid)));
    const key = await step('api_key.created', (rid) => request(t.http).post('/api/v1/api-keys').set(go(rid)).send({ name: 'k', permissions: ['workspace.read'] }));
    await step('api_key.revoked', (rid) => request(t.http).post(`/api/v1/api-keys/${key.body.id}/revoke`).set(go(rid)));
    await step('api_key.deleted', (rid) => request(t.http).delete(`/api/v1/api-keys/${key.body.id}`).set(go(rid)));
    await step('user.disabled', (rid) => request(t.http).patch(`/api/v1/users/${user.body.id}`).set(go(rid)).send({ status: 'disabled' }));
    await step('environment.deleted', (rid) => request(t.http).delete(`/api/v1/environments/${env.body.id}`).set(go(rid)));
    await step('workspace.deleted', (rid) => request(t.http).delete(`/api/v1/workspaces/${ws.body.id}`).set(go(rid)));
    await step('authz.checked', (rid) =>
      request(t.http).post('/api/v1/authz/check').set(go(rid)).send({ principal: { type: 'user', id: owner.userId }, permission: 'workspace.read', resource: { type: 'tenant', id: tenantId } }),
    );
    await step('session.revoked', async (rid) => request(t.http).post('/api/v1/auth/logout').set({ ...auth((await login(t, 'owner@audited.example', 'owner password 123')).token), 'X-Request-ID': rid, 'X-Correlation-Id': 'corr-audit-flow' }));

    // No secret reaches an audit payload.
    const dump = JSON.stringify(await sql(`SELECT payload FROM audit_events`));
    expect(dump).not.toContain(key.body.key);
    expect(dump).not.toContain('dan password 1234');
    expect(dump).not.toMatch(/csk_[A-Za-z0-9_-]{43}|csr_|csi_/);
  });

  it('audits login success and failure, refresh reuse, and permission denials', async () => {
    const ok = await request(t.http).post('/api/v1/auth/login').set('X-Request-ID', 'login-ok-0001').set('User-Agent', 'audit-test/1').send({ email: 'owner@audited.example', password: 'owner password 123' });
    expect(ok.status).toBe(200);
    expect((await eventsFor('login-ok-0001')).map((e) => e.action)).toEqual(['session.created']);
    // The client's address and user agent come from the request context (the address worked out on first use).
    const [created] = await sql<{ ip: string; user_agent: string }>(`SELECT ip, user_agent FROM audit_events WHERE request_id = 'login-ok-0001'`);
    expect(created.ip).toMatch(/127\.0\.0\.1$|^::1$/);
    expect(created.user_agent).toBe('audit-test/1');

    await request(t.http).post('/api/v1/auth/login').set('X-Request-ID', 'login-bad-0001').send({ email: 'owner@audited.example', password: 'wrong wrong wrong' }).expect(401);
    const failed = await sql<{ action: string; outcome: string; payload: { email: string } }>(`SELECT action, outcome, payload FROM audit_events WHERE request_id = 'login-bad-0001'`);
    expect(failed).toEqual([{ action: 'session.login_failed', outcome: 'failure', payload: { email: 'owner@audited.example', reason: 'invalid_credentials' } }]);

    await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: ok.body.refresh_token }).expect(200);
    await request(t.http).post('/api/v1/auth/refresh').set('X-Request-ID', 'reuse-0001').send({ refresh_token: ok.body.refresh_token }).expect(401);
    expect((await eventsFor('reuse-0001')).map((e) => e.action)).toEqual(['session.refresh_reused']);

    const member = await createMember(t, owner, 'nobody@audited.example');
    await request(t.http).get('/api/v1/roles').set(auth(member.token)).set('X-Request-ID', 'denied-0001').expect(403);
    const denied = await eventsFor('denied-0001');
    expect(denied).toMatchObject([{ action: 'permission.denied', actor: { type: 'user', id: member.userId }, resource_id: 'GET /api/v1/roles' }]);
  });

  it('fails closed: when the event cannot be written the change is not made', async () => {
    await sql(`ALTER TABLE audit_events ADD CONSTRAINT no_role_audit CHECK (action <> 'role.created') NOT VALID`);
    try {
      const res = await request(t.http).post('/api/v1/roles').set(auth(owner.token)).send({ name: 'ghost', permissions: [] });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('INTERNAL_ERROR');
      expect(await sql(`SELECT id FROM roles WHERE name = 'ghost'`)).toEqual([]);
    } finally {
      await sql(`ALTER TABLE audit_events DROP CONSTRAINT no_role_audit`);
    }
  });

  it('filters, pages newest first, and reads one event; other tenants see none of it', async () => {
    const page1 = await request(t.http).get('/api/v1/audit-events?limit=2').set(auth(owner.token));
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.data[0].id > page1.body.data[1].id).toBe(true);
    const page2 = await request(t.http).get(`/api/v1/audit-events?limit=2&cursor=${page1.body.pagination.next_cursor}`).set(auth(owner.token));
    expect(page2.body.data[0].id < page1.body.data[1].id).toBe(true);
    const byAction = await request(t.http).get('/api/v1/audit-events?action=workspace.created').set(auth(owner.token));
    expect(byAction.body.data.every((e: { action: string }) => e.action === 'workspace.created')).toBe(true);
    const future = await request(t.http).get(`/api/v1/audit-events?since=${new Date(Date.now() + 60000).toISOString()}`).set(auth(owner.token));
    expect(future.body.data).toEqual([]);
    const one = await request(t.http).get(`/api/v1/audit-events/${page1.body.data[0].id}`).set(auth(owner.token));
    expect(one.body).toEqual(page1.body.data[0]);
    expect((await request(t.http).get(`/api/v1/audit-events/${page1.body.data[0].id}`).set(auth(admin.token))).status).toBe(404);
  });

  it('is append-only for the application, and /verify names the event a superuser edited', async () => {
    const dataSource = t.app.get(AuditService)['txHost'].tx;
    const [target] = await sql<{ id: string }>(`SELECT id FROM audit_events WHERE tenant_id = $1 AND action = 'workspace.created' LIMIT 1`, [tenantId]);
    await expect(dataSource.query(`UPDATE audit_events SET action = 'x' WHERE id = $1`, [target.id])).rejects.toThrow(/append-only/);
    await expect(dataSource.query(`DELETE FROM audit_events WHERE id = $1`, [target.id])).rejects.toThrow(/append-only/);
    await expect(dataSource.query(`TRUNCATE audit_events CASCADE`)).rejects.toThrow(/append-only/);

    await t.app.get(AuditService).sealPending();
    const clean = await request(t.http).get('/api/v1/audit-events/verify').set(auth(owner.token));
    expect(clean.body).toMatchObject({ verified: true, checked: expect.any(Number), first_invalid_id: null, unsealed: expect.any(Number) });
    expect(clean.body.checked).toBeGreaterThan(20);

    const checkpoints = await request(t.http).get('/api/v1/audit-events/checkpoints').set(auth(owner.token));
    const latest = checkpoints.body.data[0];
    const publicKey = createPublicKey(checkpoints.body.public_key_pem);
    const message = `countersign-audit-v1|${latest.chain}|${latest.seq}|${latest.last_event_id}|${latest.hash}`;
    expect(verify(null, Buffer.from(message), publicKey, Buffer.from(latest.signature, 'base64'))).toBe(true);
    expect(latest.seq).toBe(clean.body.checked);

    // A superuser can bypass the triggers for its session; the chain exposes the edit.
    const c = await t.db.client();
    await c.query(`SET session_replication_role = replica`);
    await c.query(`UPDATE audit_events SET payload = '{"slug":"tampered"}' WHERE id = $1`, [target.id]);
    await c.end();
    const broken = await request(t.http).get('/api/v1/audit-events/verify').set(auth(owner.token));
    expect(broken.body).toMatchObject({ verified: false, first_invalid_id: target.id });
  });

  it(`exports ≥ 100,000 events as NDJSON with flat memory`, async () => {
    await sql(
      `INSERT INTO audit_events (id, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, resource_type, resource_id, outcome, request_id, correlation_id, payload)
       SELECT 'aud_' || lpad(to_hex(g), 26, '0'), now(), $1, 'system', NULL, 'bulk', 'bulk.generated', 'bulk', 'r' || g, 'success', 'bulk-' || g, 'bulk', jsonb_build_object('n', g, 'note', repeat('x', 200))
         FROM generate_series(1, 100000) g`,
      [tenantId],
    );
    const [{ n: expected }] = await sql<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1`, [tenantId]);
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    const port = (t.http.address() as { port: number }).port;
    // Live memory = heap after a full collection, sampled while the export streams.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 2000);
    sampler.unref();
    let streamed: { lines: number; bytes: number };
    try {
      streamed = await new Promise<{ lines: number; bytes: number }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/api/v1/audit-events/export', headers: auth(owner.token) }, (res) => {
            expect(res.statusCode).toBe(200);
            expect(res.headers['content-type']).toContain('application/x-ndjson');
            let count = 0;
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) count++;
            });
            res.on('end', () => resolve({ lines: count, bytes: size }));
            res.on('error', reject);
          })
          .on('error', reject);
      });
    } finally {
      // Also when the test fails or times out: a full GC every 2 s left running would starve every later test file.
      clearInterval(sampler);
    }
    const { lines, bytes } = streamed;
    const growthMb = (peak - baseline) / 1024 / 1024;
    expect(lines).toBe(Number(expected));
    expect(lines).toBeGreaterThanOrEqual(100000);
    // The export is ~45 MB; buffering it would grow the heap by more than that. Keyset batches keep it small.
    expect(bytes).toBeGreaterThan(40 * 1024 * 1024);
    expect(growthMb).toBeLessThan(20);
    process.stdout.write(`audit export: ${lines} events, ${(bytes / 1024 / 1024).toFixed(1)} MB streamed, heap growth ${growthMb.toFixed(1)} MB\n`);
    // ~60 s on an idle 2-core machine, over 200 s at load 11: the bound is for a hung export, not a slow one.
  }, 600_000);
});
