/**
 * The Fastify smoke subset (issue 14 §5): the same suites that pin the HTTP contract on Express run here against the
 * app built on @nestjs/platform-fastify (`HTTP_ADAPTER=fastify`, which createTestApp passes on): the error envelope,
 * request ids, 413/415 and the one access-log line (foundation), the hostile-input sweep of every route, the README
 * walk-through, idempotent replay, and the rate-limit headers; plus /docs and /openapi.json below. Jest gives each
 * test file its own `process.env`, so the setting stays in this file.
 */
import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import './foundation.e2e-spec';
import './hostile-input.e2e-spec';
import './identity-walkthrough.e2e-spec';
import './idempotency.e2e-spec';
import './rate-limits.e2e-spec';

process.env.HTTP_ADAPTER = 'fastify';

describe('Fastify: the adapter really is Fastify; docs and caching (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No adapter option: like the imported suites, this app takes HTTP_ADAPTER from the environment set above.
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('runs on Fastify (and so do the imported suites: they build their apps the same way)', () => {
    expect(t.app.getHttpAdapter().getType()).toBe('fastify');
  });

  it('/openapi.json is the document and /docs the Swagger UI page', async () => {
    const doc = await request(t.http).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.headers['content-type']).toMatch(/^application\/json/);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths).length).toBeGreaterThan(50);
    const docs = await request(t.http).get('/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
    expect(docs.text).toContain('swagger-ui');
    const init = await request(t.http).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/openapi.json');
  });

  it('405 with Allow, 404 envelope, no-store on /api/v1, request ids echoed', async () => {
    const wrongMethod = await request(t.http).put('/api/v1/auth/setup-status').set('X-Request-ID', 'fastify-405-0001');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
    expect(wrongMethod.body).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: expect.any(String), details: [{ allowed: ['GET', 'HEAD'] }], request_id: 'fastify-405-0001' } });
    expect(wrongMethod.headers['x-request-id']).toBe('fastify-405-0001');
    const missing = await request(t.http).get('/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'NOT_FOUND', request_id: missing.headers['x-request-id'] });
    expect(missing.headers['cache-control']).toBe('no-store');
    const nul = await request(t.http).get('/api/v1/requests/req_%00');
    expect(nul.status).toBe(400);
    expect(nul.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'id', issue: 'must not contain NUL characters' }] });
  });
});
