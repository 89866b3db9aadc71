import request from 'supertest';
import { FixtureModule } from './fixtures/fixture.module';
import { createTestApp, TestApp } from '../helpers/test-app';

describe('HTTP foundation (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ imports: [FixtureModule] });
  });
  afterAll(() => t.close());

  describe('request and correlation ids', () => {
    it('echoes a valid X-Request-ID on the response and in the error body', async () => {
      const res = await request(t.http).get('/api/v1/nope').set('X-Request-ID', 'abcdefgh-1');
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toBe('abcdefgh-1');
      expect(res.body).toEqual({
        error: { code: 'NOT_FOUND', message: expect.any(String), details: null, request_id: 'abcdefgh-1' },
      });
    });

    it('replaces a malformed id with a generated one and defaults the correlation id to it', async () => {
      const res = await request(t.http).get('/healthz').set('X-Request-ID', 'bad id!');
      const id = res.headers['x-request-id'];
      expect(id).not.toBe('bad id!');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['x-correlation-id']).toBe(id);
    });

    it('accepts a separate correlation id', async () => {
      const res = await request(t.http).get('/healthz').set('X-Correlation-Id', 'corr-12345678');
      expect(res.headers['x-correlation-id']).toBe('corr-12345678');
      expect(res.headers['x-request-id']).not.toBe('corr-12345678');
    });

    it('sets X-API-Version on /api/v1 responses only', async () => {
      expect((await request(t.http).get('/api/v1/version')).headers['x-api-version']).toBe('1');
      expect((await request(t.http).get('/healthz')).headers['x-api-version']).toBeUndefined();
    });
  });

  describe('error envelope', () => {
    it('405 for a known path with another method, naming the allowed ones', async () => {
      const res = await request(t.http).post('/api/v1/health').set('Content-Type', 'application/json').send('{}');
      expect(res.status).toBe(405);
      expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toContain('GET');
      expect(res.body.error.request_id).toBe(res.headers['x-request-id']);
    });

    it('413 for a body over 1 MiB', async () => {
      const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
      const res = await request(t.http).post('/api/v1/fixtures/workflows').set('Content-Type', 'application/json').send(big);
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('415 for a body that is not JSON', async () => {
      const res = await request(t.http).post('/api/v1/fixtures/workflows').set('Content-Type', 'text/plain').send('name=x');
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('400 VALIDATION_FAILED for malformed JSON', async () => {
      const res = await request(t.http).post('/api/v1/fixtures/workflows').set('Content-Type', 'application/json').send('{"name":');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'body', issue: 'is not valid JSON' }] });
    });

    it('400 names nested fields in snake_case paths and refuses unknown fields', async () => {
      const res = await request(t.http)
        .post('/api/v1/fixtures/workflows')
        .send({ name: 'wf', stages: [{ name: 's1', required_approvals: 0 }], tenant_id: 'ten_x' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details).toEqual(
        expect.arrayContaining([
          { field: 'tenant_id', issue: 'is not allowed' },
          { field: 'stages[0].required_approvals', issue: 'must not be less than 1' },
        ]),
      );
    });

    it('accepts a valid body (the pipe transforms, nothing else is touched)', async () => {
      const res = await request(t.http).post('/api/v1/fixtures/workflows').send({ name: 'wf', stages: [{ name: 's1', required_approvals: 2 }] });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ name: 'wf', stages: 1 });
    });

    it('500 INTERNAL_ERROR hides the cause from the client and logs it with the request id', async () => {
      const res = await request(t.http).get('/api/v1/fixtures/explode').set('X-Request-ID', 'explode-0001');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.', details: null, request_id: 'explode-0001' } });
      expect(JSON.stringify(res.body)).not.toMatch(/SELECT|stack|hunter2/);
      const logged = t.logs.parsed().filter((l) => l.request_id === 'explode-0001' && l.err);
      expect(logged.length).toBeGreaterThan(0);
      expect(JSON.stringify(logged[0].err)).toContain('secret internals');
    });
  });

  describe('logging', () => {
    it('writes one JSON line per request with id, method, route template, status and duration; credentials redacted', async () => {
      await request(t.http)
        .post('/api/v1/fixtures/workflows')
        .set('X-Request-ID', 'logline-0001')
        .set('Authorization', 'Bearer super-secret-token-value')
        .set('X-API-Key', 'csk_shouldneverbelogged')
        .send({ name: 'wf', stages: [{ name: 's', required_approvals: 1 }], password: 'hunter2-password' });
      const line = t.logs.parsed().find((l) => l.request_id === 'logline-0001' && l.status !== undefined);
      expect(line).toMatchObject({ method: 'POST', route: '/api/v1/fixtures/workflows', status: 201, correlation_id: 'logline-0001' });
      expect(typeof line!.duration_ms).toBe('number');
      expect(t.logs.text).not.toContain('super-secret-token-value');
      expect(t.logs.text).not.toContain('csk_shouldneverbelogged');
      expect(t.logs.text).not.toContain('hunter2-password');
    });
  });

  describe('probes and meta', () => {
    it('/healthz and /livez answer without the database', async () => {
      for (const path of ['/healthz', '/livez']) {
        const res = await request(t.http).get(path);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: 'ok' });
      }
    });

    it('/readyz reports database, migrations and redis', async () => {
      const res = await request(t.http).get('/readyz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', checks: { database: 'up', migrations: 'up', redis: 'disabled' } });
    });

    it('/api/v1/health and /api/v1/version', async () => {
      const health = await request(t.http).get('/api/v1/health');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok', db: 'connected', version: expect.stringMatching(/^\d+\.\d+\.\d+/), background: expect.any(Array) });
      const tasks = (health.body.background as { task: string }[]).map((b) => b.task).sort();
      expect(tasks).toEqual(['agent-offline-notifier', 'audit-sealer', 'idempotency-sweeper', 'job-lease-sweeper', 'request-expiry', 'webhook-dispatcher']);
      const version = await request(t.http).get('/api/v1/version');
      expect(version.body).toEqual({
        version: health.body.version,
        commit: expect.any(String),
        build_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        api_version: '1',
      });
    });

    it('/metrics exposes process metrics and request durations labelled by route template and status class', async () => {
      await request(t.http).get('/api/v1/version');
      const res = await request(t.http).get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.text).toContain('process_cpu_user_seconds_total');
      expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="\/api\/v1\/version"[^}]*status_class="2xx"/);
      expect(res.text).toMatch(/route="<unmatched>"/);
    });
  });
});
