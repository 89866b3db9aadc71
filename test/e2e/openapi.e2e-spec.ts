import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createMember, createTenant, setupPlatform } from '../helpers/identity';

type Schema = Record<string, unknown>;
type Op = {
  operationId: string;
  parameters?: { $ref?: string; in?: string; name?: string; schema?: Schema }[];
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
  summary?: string;
  description?: string;
  tags?: string[];
};

/** The words a generator makes of an operation id: split on `_`/`-` and camel humps, lower-cased. */
const words = (id: string) => id.split(/[_-]|(?=[A-Z])/).filter(Boolean).map((w) => w.toLowerCase());
/** What four generators name the function: openapi-typescript keeps the id, @hey-api/openapi-ts, orval and swagger-typescript-api camel-case it. */
const generatedNames = (id: string) => {
  const camel = words(id).map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
  return { 'openapi-typescript': id, '@hey-api/openapi-ts': camel, orval: camel, 'swagger-typescript-api': camel };
};
/** A name stutters when one of its words repeats another or extends it (`healthHealthz`, `approvalsInboxInbox`). */
const stutters = (name: string) => {
  const ws = words(name).map((w) => w.replace(/s$/, ''));
  return ws.some((w, i) => ws.some((v, j) => j > i && (v.startsWith(w) || w.startsWith(v))));
};

describe('OpenAPI document (e2e)', () => {
  let t: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Op>>; components: Record<string, Record<string, unknown>>; tags?: { name: string; description?: string }[] };

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

  it('gives every operation a unique, stable <Noun>_<verb> operationId, a summary, a description and one declared tag', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const declared = new Set((doc.tags ?? []).map((t) => t.name));
    for (const tag of doc.tags ?? []) expect(tag.description).toBeTruthy();
    for (const { op } of operations()) {
      expect(op.operationId).toMatch(/^[A-Z][A-Za-z]+_[a-z][A-Za-z]+$/);
      expect(op.summary).toBeTruthy();
      expect(op.description).toBeTruthy();
      expect(op.tags).toHaveLength(1);
      expect(declared.has(op.tags![0])).toBe(true);
    }
  });

  it('has operation names that do not stutter in any of four generators', () => {
    const stuttering = operations().flatMap(({ op }) => Object.entries(generatedNames(op.operationId)).filter(([, name]) => stutters(name)).map(([gen, name]) => `${gen}: ${name}`));
    expect(stuttering).toEqual([]);
    expect(stutters('healthHealthz')).toBe(true);
    expect(stutters('approvalsInboxInbox')).toBe(true);
  });

  const PROBE_FAILURE_BODIES: Record<string, string> = { 'GET /readyz 503': 'ReadinessDto', 'GET /api/v1/health 503': 'ApiHealthDto' };

  it('describes every response, and declares every error as an application/json ErrorEnvelope', () => {
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(`${method} ${path} ${status}: ${response.description ?? ''}`).not.toMatch(/: $/);
        // Probes answer 503 with their own report (what failed), which is what load balancers and people read.
        const body = PROBE_FAILURE_BODIES[`${method.toUpperCase()} ${path} ${status}`] ?? 'ErrorEnvelope';
        if (/^[45]/.test(status)) expect(response.content).toEqual({ 'application/json': { schema: { $ref: `#/components/schemas/${body}` } } });
      }
    }
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content!)).toEqual(['text/plain; version=0.0.4; charset=utf-8']);
    expect(Object.keys(doc.paths['/api/v1/audit-events/export'].get.responses['200'].content!)).toEqual(['application/x-ndjson']);
  });

  it('is precise: integers, date-times, typed path parameters, named enums and $refs', () => {
    const loose: string[] = [];
    const visit = (schema: unknown, where: string): void => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Schema;
      if (s.type === 'number') loose.push(`${where}: number`);
      for (const [key, value] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
        if (/_at$/.test(key) && value.type === 'string' && value.format !== 'date-time') loose.push(`${where}.${key}: no date-time`);
        if (Array.isArray(value.enum) && value.enum.length > 1 && !(where === 'RequestWebhookEventDto' && key === 'type')) loose.push(`${where}.${key}: inline enum`);
        visit(value, `${where}.${key}`);
      }
      for (const key of ['items', 'additionalProperties']) visit(s[key], `${where}.${key}`);
    };
    for (const [name, schema] of Object.entries(doc.components.schemas)) visit(schema, name);
    for (const { path, method, op } of operations()) {
      for (const p of op.parameters ?? []) {
        if (p.$ref) continue;
        visit(p.schema, `${method} ${path} ${p.name}`);
        if (p.in === 'path' && p.schema?.type !== 'string') loose.push(`${method} ${path} {${p.name}}: untyped`);
        if (Array.isArray(p.schema?.enum)) loose.push(`${method} ${path} ${p.name}: inline enum`);
      }
    }
    expect(loose).toEqual([]);
    const schemas = doc.components.schemas as Record<string, Schema>;
    for (const name of ['RequestStatus', 'PolicyEffect', 'JobStatus', 'ScopeType', 'AuditOutcome', 'AuditActorType', 'UserStatus', 'AgentStatus']) expect(schemas[name]?.enum).toBeDefined();
    const requestProps = schemas.RequestDto.properties as Record<string, Schema>;
    expect(requestProps.policy_decision.allOf).toEqual([{ $ref: '#/components/schemas/PolicyDecisionDto' }]);
    expect(requestProps.workflow.allOf).toEqual([{ $ref: '#/components/schemas/WorkflowSnapshotDto' }]);
    expect((schemas.CreateWorkspaceDto.properties as Record<string, Schema>).slug.pattern).toBe('^[a-z0-9][a-z0-9-]{1,62}$');
    const agentParam = doc.paths['/api/v1/agents/{id}/heartbeat'].post.parameters!.find((p) => p.name === 'id');
    expect(agentParam?.schema).toEqual(expect.objectContaining({ type: 'string', pattern: '^agt_[0-9A-HJKMNP-TV-Z]{26}$' }));
  });

  it('answers the 400 it documents on a probe: a NUL in a query value', async () => {
    expect(doc.paths['/healthz'].get.responses['400']).toBeDefined();
    const res = await request(t.http).get('/healthz?probe=%00');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('documents X-Request-ID everywhere and Idempotency-Key on every mutation', () => {
    for (const { method, op } of operations()) {
      const refs = (op.parameters ?? []).map((p) => p.$ref);
      expect(refs).toContain('#/components/parameters/RequestId');
      const exempt = (op as unknown as Record<string, unknown>)['x-idempotency'] === 'ignored';
      if (['post', 'put', 'patch', 'delete'].includes(method)) expect(refs.includes('#/components/parameters/IdempotencyKey')).toBe(!exempt);
      expect(op.responses['500']).toBeDefined();
    }
  });

  it('declares every path parameter of every operation (generated clients need them)', () => {
    const missing: string[] = [];
    for (const { path, method, op } of operations()) {
      const declared = new Set(((op.parameters ?? []) as { in?: string; name?: string }[]).filter((p) => p.in === 'path').map((p) => p.name));
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) if (!declared.has(name)) missing.push(`${method.toUpperCase()} ${path} {${name}}`);
    }
    expect(missing).toEqual([]);
  });

  it('marks exactly the credential-issuing routes as ignoring Idempotency-Key', () => {
    const exempt = operations()
      .filter(({ op }) => (op as unknown as Record<string, unknown>)['x-idempotency'] === 'ignored')
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .sort();
    expect(exempt).toEqual(['POST /api/v1/agents/enroll', 'POST /api/v1/auth/accept-invitation', 'POST /api/v1/auth/login', 'POST /api/v1/auth/refresh', 'POST /api/v1/auth/setup', 'POST /api/v1/auth/switch-tenant']);
  });

  it('lists the probe and meta routes of SPEC §3', () => {
    for (const path of ['/healthz', '/livez', '/readyz', '/metrics', '/api/v1/health', '/api/v1/version']) expect(doc.paths[path]?.get).toBeDefined();
  });

  it('matches the SPEC §3 route table for auth, tenants, users, workspaces, roles, authz and API keys, route for route', () => {
    const spec = `
      GET /api/v1/auth/setup-status · POST /api/v1/auth/setup · POST /api/v1/auth/login · POST /api/v1/auth/refresh
      POST /api/v1/auth/logout · GET /api/v1/auth/me · POST /api/v1/auth/switch-tenant · POST /api/v1/auth/accept-invitation
      POST /api/v1/auth/providers · GET /api/v1/auth/providers · GET /api/v1/auth/providers/{id} · PATCH /api/v1/auth/providers/{id}
      DELETE /api/v1/auth/providers/{id} · GET /api/v1/auth/oidc/{provider_id}/start · GET /api/v1/auth/oidc/callback
      POST /api/v1/tenants · GET /api/v1/tenants · GET /api/v1/tenants/{id} · PATCH /api/v1/tenants/{id} · DELETE /api/v1/tenants/{id}
      POST /api/v1/users · GET /api/v1/users · GET /api/v1/users/{id} · PATCH /api/v1/users/{id} · GET /api/v1/users/{id}/roles
      POST /api/v1/workspaces · GET /api/v1/workspaces · GET /api/v1/workspaces/{id} · PATCH /api/v1/workspaces/{id}
      DELETE /api/v1/workspaces/{id} · POST /api/v1/workspaces/{id}/environments · GET /api/v1/workspaces/{id}/environments
      DELETE /api/v1/environments/{id}
      GET /api/v1/permissions · POST /api/v1/roles · GET /api/v1/roles · GET /api/v1/roles/{id} · PUT /api/v1/roles/{id}/permissions
      DELETE /api/v1/roles/{id} · POST /api/v1/user-roles · GET /api/v1/user-roles · DELETE /api/v1/user-roles/{id}
      POST /api/v1/authz/check · POST /api/v1/authz/explain
      POST /api/v1/api-keys · GET /api/v1/api-keys · GET /api/v1/api-keys/{id} · POST /api/v1/api-keys/{id}/revoke · DELETE /api/v1/api-keys/{id}`
      .split(/[·\n]/)
      .map((r) => r.trim())
      .filter(Boolean)
      .sort();
    const prefixes = ['/api/v1/auth', '/api/v1/tenants', '/api/v1/users', '/api/v1/workspaces', '/api/v1/environments', '/api/v1/permissions', '/api/v1/roles', '/api/v1/user-roles', '/api/v1/authz', '/api/v1/api-keys'];
    const documented = operations()
      .filter(({ path }) => prefixes.some((p) => path.startsWith(p)))
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .sort();
    expect(spec).toHaveLength(49);
    expect(documented).toEqual(spec);
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

  it('also serves a user or API key holding metrics.read; others get 403', async () => {
    const { owner } = await createTenant(t, await setupPlatform(t), 'metrics');
    expect((await request(t.http).get('/metrics').set(auth(owner.token))).status).toBe(200);
    const key = await request(t.http).post('/api/v1/api-keys').set(auth(owner.token)).send({ name: 'scraper', permissions: ['metrics.read'] });
    expect((await request(t.http).get('/metrics').set(auth(key.body.key))).status).toBe(200);
    const member = await createMember(t, owner, 'nobody@metrics.example');
    const denied = await request(t.http).get('/metrics').set(auth(member.token));
    expect(denied.status).toBe(403);
    expect(denied.body.error.details).toEqual([{ permission: 'metrics.read' }]);
    expect((await request(t.http).get('/metrics').set(auth('not.a.jwt'))).body.error.code).toBe('INVALID_CREDENTIALS');
  });
});
