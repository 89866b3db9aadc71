import { Client } from 'pg';
import request, { Response } from 'supertest';
import { RouteAccess, RouteAccessInventory } from '../../src/common/auth/route-access';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * The hostile-input sweep (issue 9, SPEC §1 "strings"): every route of the app's own route table — none listed by
 * hand — gets NUL characters in each path parameter, in each query parameter its OpenAPI operation declares (and in
 * one it does not), in a body string, a body nested 40, 100 and 100,000 levels deep, and `__proto__` / `constructor`
 * keys. Every answer must be 400 VALIDATION_FAILED in the error envelope naming the field — never a 5xx — and nothing
 * may be written: not a row, not an audit event. (Tenant B's owner using tenant A's ids → 404 on every `:id` route is
 * test/e2e/access-matrix.e2e-spec.ts; not repeated here.)
 */

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  allOf?: Schema[];
}
interface Operation {
  parameters?: { name?: string; in?: string; $ref?: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
interface Case {
  route: string;
  kind: string;
  path: string;
  query?: string;
  body?: string;
  /** The `details[].field` the 400 must name. */
  field: string;
}

/** The only hand-kept table: id prefixes (SPEC §1 "ids"), so that parameters look like real ids. */
const ID_PREFIX: Record<string, string> = {
  tenants: 'ten',
  users: 'usr',
  workspaces: 'wsp',
  environments: 'env',
  roles: 'rol',
  'user-roles': 'ura',
  'api-keys': 'key',
  'audit-events': 'aud',
  agents: 'agt',
  jobs: 'job',
  secrets: 'sec',
  requests: 'req',
  workflows: 'wfl',
  policies: 'pol',
  wraps: 'wrp',
  groups: 'grp',
  webhooks: 'whk',
  plugins: 'plg',
};
const ULID = '01JD3Z6Q8Y4K2M9V7T5R3P1N0B';
const NUL = '\u0000';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Tables only background tasks write (the audit sealer chains events already there); everything else must not move. */
const BACKGROUND_TABLES = new Set(['audit_seals', 'audit_checkpoints']);

const nested = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

describe('hostile input sweep: every route, NUL / deep / __proto__ → 400, nothing written (e2e)', () => {
  let t: TestApp;
  let db: Client;
  let owner: Session;
  let agentId: string;
  let agentSecret: string;
  let workspaceId: string;
  let routes: RouteAccess[];
  let openapi: OpenApiDocument;

  beforeAll(async () => {
    t = await createTestApp();
    db = await t.db.client();
    const admin = await setupPlatform(t);
    owner = (await createTenant(t, admin, 'hostile')).owner;
    const as = auth(owner.token);
    const ws = await request(t.http).post('/api/v1/workspaces').set(as).send({ slug: 'payments', display_name: 'Payments' });
    if (ws.status !== 201) throw new Error(`workspace: ${ws.status} ${JSON.stringify(ws.body)}`);
    workspaceId = ws.body.id;
    const minted = await request(t.http).post('/api/v1/agents').set(as).send({ name: 'a1', workspace_id: workspaceId, cluster_name: 'c1', capabilities: ['file'] });
    if (minted.status !== 201) throw new Error(`agent: ${minted.status} ${JSON.stringify(minted.body)}`);
    agentId = minted.body.agent.id;
    agentSecret = minted.body.agent_secret;
    routes = t.app.get(RouteAccessInventory).list();
    openapi = (await request(t.http).get('/openapi.json')).body as OpenApiDocument;
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const key = (route: RouteAccess) => `${route.method} ${route.path}`;
  const operationOf = (route: RouteAccess): Operation | undefined => openapi.paths[route.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
  const agentOnly = (route: RouteAccess) => route.principals?.length === 1 && route.principals[0] === 'agent';
  const credentials = (route: RouteAccess): Record<string, string> => (agentOnly(route) ? { 'X-Agent-Secret': agentSecret } : auth(owner.token));

  /** A valid-looking value for each path parameter: the real agent and workspace, else a well-formed id. */
  const idFor = (segments: string[], index: number): string => {
    const param = segments[index].slice(1);
    const collection = param === 'id' ? segments[index - 1] : `${param.replace(/_id$/, '')}s`;
    if (collection === 'agents') return agentId;
    if (collection === 'workspaces') return workspaceId;
    return `${ID_PREFIX[collection] ?? 'obj'}_${ULID}`;
  };
  const pathWith = (route: RouteAccess, poison?: number): string => {
    const segments = route.path.split('/');
    return segments.map((s, i) => (!s.startsWith(':') ? s : i === poison ? `${idFor(segments, i).slice(0, 4)}%00x` : idFor(segments, i))).join('/');
  };

  /** The first string property of the operation's JSON request schema, else `name`. */
  const stringField = (operation: Operation | undefined): string => {
    let schema = operation?.requestBody?.content?.['application/json']?.schema;
    for (let hops = 0; schema && hops < 5; hops++) {
      if (schema.$ref) schema = openapi.components.schemas[schema.$ref.split('/').pop()!];
      else if (schema.allOf) schema = schema.allOf.find((s) => s.$ref || s.properties);
      else break;
    }
    const found = Object.entries(schema?.properties ?? {}).find(([, p]) => p.type === 'string');
    return found?.[0] ?? 'name';
  };

  const casesFor = (route: RouteAccess): Case[] => {
    const name = key(route);
    const path = pathWith(route);
    const cases: Case[] = [];
    route.path.split('/').forEach((segment, index) => {
      if (segment.startsWith(':')) cases.push({ route: name, kind: `NUL in path :${segment.slice(1)}`, path: pathWith(route, index), field: segment.slice(1) });
    });
    const declared = (operationOf(route)?.parameters ?? []).filter((p) => p.in === 'query' && p.name).map((p) => p.name!);
    for (const q of [...declared, 'undeclared_param']) cases.push({ route: name, kind: `NUL in query ${q}`, path, query: `${q}=a%00b`, field: q });
    if (BODY_METHODS.has(route.method)) {
      const field = stringField(operationOf(route));
      cases.push(
        { route: name, kind: `NUL in body string ${field}`, path, body: JSON.stringify({ [field]: `a${NUL}b` }), field },
        { route: name, kind: 'NUL in a nested body key', path, body: JSON.stringify({ [field]: 'ok', labels: { [`k${NUL}`]: 'v' } }), field: 'labels["k\\u0000"]' },
        { route: name, kind: 'body nested 40 levels', path, body: JSON.stringify({ [field]: JSON.parse(nested(39)) }), field: `${field}${'.a'.repeat(31)}` },
        { route: name, kind: 'body nested 100 levels', path, body: nested(100), field: 'body' },
        { route: name, kind: 'body nested 100,000 levels', path, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, field: 'body' },
        { route: name, kind: 'body with __proto__', path, body: `{"${field}":"x","__proto__":{"is_admin":true}}`, field: '__proto__' },
        { route: name, kind: 'body with constructor.prototype', path, body: `{"${field}":"x","constructor":{"prototype":{"is_admin":true}}}`, field: 'constructor' },
      );
    }
    return cases;
  };

  const send = (route: RouteAccess, c: Case): Promise<Response> => {
    const url = c.query ? `${c.path}?${c.query}` : c.path;
    const req = request(t.http)[route.method.toLowerCase() as Method](url).set(credentials(route));
    return c.body === undefined ? req : req.set('Content-Type', 'application/json').send(c.body);
  };

  /** Exact row counts of every table (not pg_stat estimates). */
  const rowCounts = async (): Promise<Record<string, number>> => {
    const tables = await db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const counts: Record<string, number> = {};
    for (const { tablename } of tables.rows) {
      if (BACKGROUND_TABLES.has(tablename)) continue;
      const res = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${tablename}"`);
      counts[tablename] = Number(res.rows[0].n);
    }
    return counts;
  };

  it('enumerates the route table and the OpenAPI document, and every route is in both', () => {
    expect(routes.length).toBeGreaterThan(50);
    const missing = routes.filter((r) => r.path.startsWith('/api/v1') && !operationOf(r)).map(key);
    expect(missing).toEqual([]);
    expect(routes.filter(agentOnly).length).toBeGreaterThan(0);
  });

  it('answers every case with 400 VALIDATION_FAILED naming the field, never a 5xx, and writes nothing', async () => {
    const cases = routes.flatMap((route) => casesFor(route).map((c) => ({ route, c })));
    const before = await rowCounts();
    expect(before.audit_events).toBeGreaterThan(0);
    const failures: object[] = [];
    const statuses: Record<number, number> = {};
    for (const { route, c } of cases) {
      const res = await send(route, c);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const error = res.body?.error as { code?: unknown; request_id?: unknown; details?: { field?: string }[] } | undefined;
      const ok =
        res.status === 400 &&
        error?.code === 'VALIDATION_FAILED' &&
        typeof error.request_id === 'string' &&
        error.request_id === res.headers['x-request-id'] &&
        (error.details ?? []).some((d) => d.field === c.field);
      if (!ok) failures.push({ route: c.route, kind: c.kind, status: res.status, body: JSON.stringify(res.body).slice(0, 300) });
    }
    const after = await rowCounts();
    const bodyRoutes = routes.filter((r) => BODY_METHODS.has(r.method)).length;
    // eslint-disable-next-line no-console
    console.log(`hostile input sweep: ${routes.length} routes (${bodyRoutes} with a body), ${cases.length} cases, statuses ${JSON.stringify(statuses)}`);
    expect(failures).toEqual([]);
    expect(after).toEqual(before);
    expect(cases.length).toBeGreaterThan(routes.length * 2);
  }, 600_000);

  it('answers malformed percent-encoding in a path parameter with 400 naming it, on every route with one', async () => {
    const failures: object[] = [];
    let count = 0;
    for (const route of routes) {
      const segments = route.path.split('/');
      for (let i = 0; i < segments.length; i++) {
        if (!segments[i].startsWith(':')) continue;
        count++;
        const path = segments.map((s, j) => (j === i ? '%E0%A4%A' : s.startsWith(':') ? idFor(segments, j) : s)).join('/');
        const res = await request(t.http)[route.method.toLowerCase() as Method](path).set(credentials(route));
        if (res.status !== 400 || res.body?.error?.code !== 'VALIDATION_FAILED' || res.body.error.details?.[0]?.field !== segments[i].slice(1)) {
          failures.push({ route: key(route), status: res.status, body: JSON.stringify(res.body).slice(0, 200) });
        }
      }
    }
    // eslint-disable-next-line no-console
    console.log(`malformed percent-encoding: ${count} path parameters`);
    expect(count).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  }, 300_000);

  it('still accepts what the rules allow: NUL-free text, 32 levels anywhere, 64 levels under a free-form payload', async () => {
    const as = auth(owner.token);
    const ws = await request(t.http).post('/api/v1/workspaces').set(as).send({ slug: 'escaped', display_name: 'a\\u0000 is six characters, not a NUL' });
    expect(ws.status).toBe(201);
    const job = await request(t.http)
      .post('/api/v1/jobs')
      .set(as)
      .set('Content-Type', 'application/json')
      .send(`{"type":"discovery.run","agent_id":"${agentId}","payload":${nested(63)}}`);
    expect({ status: job.status, body: job.status === 201 ? 'created' : job.body }).toEqual({ status: 201, body: 'created' });
    const tooDeep = await request(t.http)
      .post('/api/v1/jobs')
      .set(as)
      .set('Content-Type', 'application/json')
      .send(`{"type":"discovery.run","agent_id":"${agentId}","payload":${nested(64)}}`);
    expect(tooDeep.status).toBe(400);
  });
});
