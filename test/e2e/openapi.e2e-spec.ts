import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';

type Op = { operationId: string; parameters?: { $ref?: string }[]; responses: Record<string, unknown>; summary?: string };

describe('OpenAPI document (e2e)', () => {
  let t: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Op>>; components: Record<string, Record<string, unknown>> };

  beforeAll(async () => {
    t = await createTestApp();
    doc = (await request(t.http).get('/openapi.json').expect(200)).body;
  });
  afterAll(() => t.close());

  const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

  it('is OpenAPI 3 with the three security schemes and the shared error envelope', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['agent_secret', 'api_key', 'bearer']);
    expect(doc.components.schemas.ErrorEnvelope).toBeDefined();
  });

  it('gives every operation a unique, stable <Tag>_<verb> operationId and a summary', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of operations()) {
      expect(op.operationId).toMatch(/^[A-Z][A-Za-z]+_[a-z][A-Za-z]+$/);
      expect(op.summary).toBeTruthy();
    }
  });

  it('documents X-Request-ID everywhere and Idempotency-Key on every mutation', () => {
    for (const { method, op } of operations()) {
      const refs = (op.parameters ?? []).map((p) => p.$ref);
      expect(refs).toContain('#/components/parameters/RequestId');
      if (['post', 'put', 'patch', 'delete'].includes(method)) expect(refs).toContain('#/components/parameters/IdempotencyKey');
      expect(op.responses['500']).toBeDefined();
    }
  });

  it('lists the probe and meta routes of SPEC §3', () => {
    for (const path of ['/healthz', '/livez', '/readyz', '/metrics', '/api/v1/health', '/api/v1/version']) expect(doc.paths[path]?.get).toBeDefined();
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await request(t.http).get('/docs/').redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
  });
});

describe('/metrics protected by METRICS_TOKEN (e2e)', () => {
  let t: TestApp;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => t.close());

  it('refuses without the token and with a wrong one, serves with it', async () => {
    const none = await request(t.http).get('/metrics');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('AUTHENTICATION_REQUIRED');
    expect((await request(t.http).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789')).status).toBe(401);
    const ok = await request(t.http).get('/metrics').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('http_request_duration_seconds');
  });
});
