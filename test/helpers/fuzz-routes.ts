import fc from 'fast-check';
import { Client } from 'pg';
import request, { Response } from 'supertest';
import { RouteAccess } from '../../src/common/auth/route-access';
import { ID_PREFIXES, IdKind } from '../../src/common/crypto/ids';
import { anyValue, deepValue, EDGE_STRINGS, hostileValue, Schema, unsupportedKeywords } from './fuzz-schema';
import { FuzzWorld, idOf, shapedId, worldHints } from './fuzz-world';
import { TestApp } from './test-app';
import { auth } from './identity';

/**
 * Property-based fuzzing of one mutation route (issue 13, deliverable 5): each case is a principal, path parameters, a
 * query string, optional headers and a body generated from the route's OpenAPI request schema (valid, mutated or raw),
 * and the properties are: no status ≥ 500; every 4xx is the error envelope; a 4xx writes nothing but the rows named in
 * `ALLOWED_ON_4XX` below (row counts of every table, before and after each case).
 */

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

type PrincipalChoice = 'own' | 'foreign' | 'none' | 'garbage' | 'wrong-type';
type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; contentType: string };
export interface FuzzCase {
  principal: PrincipalChoice;
  garbageCredential: Record<string, string>;
  path: string;
  query: string;
  idempotencyKey: string | null;
  requestId: string | null;
  body: Body;
}
export interface RouteFuzzResult {
  route: string;
  runs: number;
  seed: number;
  statuses: Record<number, number>;
  ms: number;
  skipped?: string;
}

/** Tables only background tasks write (the audit sealer chains events already there). */
const BACKGROUND_TABLES = new Set(['audit_seals', 'audit_checkpoints']);
/**
 * What a 4xx may write, by design (each checked exactly, everything else must stay unchanged):
 * - `audit_events` rows of that very request (matched on request_id) whose action is one of these — denials and
 *   failed logins are recorded in a detached transaction (error.filter.ts, AuthService.recordLoginFailure); a replayed
 *   refresh token revokes its session and says so (AuthService.rotate).
 * - one `idempotency_keys` row when the request carried a valid Idempotency-Key and the outcome is a completed error
 *   (404, 409, 422…): replays answer it too (IdempotencyInterceptor, NOT_STORED = 400, 401, 403, 429).
 */
const ALLOWED_AUDIT_ON_4XX = new Set(['permission.denied', 'session.login_failed', 'session.refresh_reused']);
const IDEMPOTENCY_NOT_STORED = new Set([400, 401, 403, 429]);
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** `:id` after `workspaces` → workspace; `:job_id` → job; `:delivery_id` → delivery. */
const COLLECTIONS: Record<string, IdKind> = {
  tenants: 'tenant',
  users: 'user',
  workspaces: 'workspace',
  environments: 'environment',
  roles: 'role',
  'user-roles': 'userRole',
  'api-keys': 'apiKey',
  agents: 'agent',
  jobs: 'job',
  requests: 'request',
  workflows: 'workflow',
  policies: 'policy',
  plugins: 'plugin',
  webhooks: 'webhook',
  deliveries: 'delivery',
  groups: 'group',
};

export const routeKey = (r: RouteAccess) => `${r.method} ${r.path}`;
export const isMutation = (r: RouteAccess) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method);
const agentOnly = (r: RouteAccess) => r.principals?.length === 1 && r.principals[0] === 'agent';
/** Routes whose own principal is consumed or replaced by a success (logout, switch-tenant): a new session per case. */
const sessionBound = (r: RouteAccess) => r.access === 'authenticated' && r.path.startsWith('/api/v1/auth/');
/** Routes run last within a shard: a success removes what later cases would target. */
export const destructive = (r: RouteAccess) => r.method === 'DELETE' || /\/(revoke|logout)$/.test(r.path);

/** The id kind a path parameter holds; undefined for a collection not in COLLECTIONS (then fuzzed with ids of any kind). */
export function kindOfParam(segments: string[], index: number): IdKind | undefined {
  const param = segments[index].slice(1);
  const collection = param === 'id' ? segments[index - 1] : `${param.replace(/_id$/, '')}s`.replace(/ys$/, 'ies');
  return COLLECTIONS[collection];
}

/** `:params` of a route with no known id kind: fuzzed with well-formed ids of every kind but no real object. */
export function paramsWithoutKind(route: RouteAccess): string[] {
  const segments = route.path.split('/');
  return segments.flatMap((s, i) => (s.startsWith(':') && !kindOfParam(segments, i) ? [s] : []));
}

/** UTF-8 percent-encoding of every byte but unreserved characters (lone surrogates become U+FFFD, as on the wire). */
export function encodeSegment(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const PRE_ENCODED = ['%00', '%E0%A4%A', '%', '%zz', '%2F', '%2e%2e', '..', '.', '%C0%AE', '%EF%BB%BF', '%F0%9F%98%80', 'x%00y', '%20', '+', '%u0041'];
const garbageSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PRE_ENCODED) },
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...EDGE_STRINGS.filter(Boolean)), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 })).map(encodeSegment) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 6000 }).map((n) => 'a'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e9', 'null', 'undefined', '[object Object]', 'true') },
);

const anyShapedId: fc.Arbitrary<string> = fc.constantFrom(...(Object.keys(ID_PREFIXES) as IdKind[])).chain(shapedId);

const queryString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor', 'id', 'tenant_id', 'wait_seconds', 'force', 'x'), fc.string({ maxLength: 8 })), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...EDGE_STRINGS))), {
        minLength: 1,
        maxLength: 4,
      })
      .map((pairs) => pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join('&')),
  },
  { weight: 1, arbitrary: fc.constantFrom('a[b][c]=1', 'a[]=1&a[]=2', '__proto__[admin]=1', 'constructor[prototype][x]=1', '%', 'x=%E0%A4%A', 'x=%00', `a=${'b'.repeat(9000)}`, '&&&=&', 'a'.repeat(3000)) },
);

/** Raw bodies a JSON parser must refuse cleanly, or content types the API does not take. */
const rawBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom('{', '{"a":1,}', '[', 'nul', '\u0000', '\uFEFF{}', '"str"', '1', 'null', '[]', 'true', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"__proto__":{"x":1}}', '{"a":1}garbage', ' ', `${'['.repeat(100_000)}${']'.repeat(100_000)}`)
      .map((text): Body => ({ kind: 'raw', text, contentType: 'application/json' })),
  },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        ['text/plain', 'hello'],
        ['application/x-www-form-urlencoded', 'a=b&c[d]=e'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'],
        ['application/xml', '<a/>'],
        ['application/json; charset=utf-16', '{}'],
        ['application/json; charset=latin1', '{"name":"\u00e9"}'],
        ['application/merge-patch+json', '{"name":"x"}'],
        ['', '{}'],
      )
      .map(([contentType, text]): Body => ({ kind: 'raw', text, contentType })),
  },
  // Over the 1 MiB limit: rare, they are slow to build and send.
  { weight: 1, arbitrary: fc.constant<Body>({ kind: 'raw', text: `{"a":"${'x'.repeat(1_100_000)}"}`, contentType: 'application/json' }) },
);

const credentialGarbage: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.constantFrom<Record<string, string>>(
    { Authorization: 'Bearer x' },
    { Authorization: 'Bearer ' },
    { Authorization: 'Basic YTpi' },
    { Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c3IifQ.' },
    { 'X-Agent-Secret': 'cas_nope' },
    { 'X-Agent-Secret': '' },
    { 'X-Api-Key': 'csk_nope' },
  ),
  fc.string({ unit: fc.constantFrom(...'abcdefABCDEF0123456789._-'.split('')), maxLength: 300 }).map((s) => ({ Authorization: `Bearer ${s}` })),
);

export interface FuzzContext {
  t: TestApp;
  db: Client;
  world: FuzzWorld;
  openapi: OpenApiDocument;
}

export function operationOf(openapi: OpenApiDocument, route: RouteAccess): Operation | undefined {
  return openapi.paths[route.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
}

export function requestSchemaOf(openapi: OpenApiDocument, route: RouteAccess): Schema | undefined {
  return operationOf(openapi, route)?.requestBody?.content?.['application/json']?.schema;
}

/** Why a route cannot be fuzzed, or undefined. A skipped route is listed and fails the coverage test unless named here. */
export function skipReason(openapi: OpenApiDocument, route: RouteAccess): string | undefined {
  if (!operationOf(openapi, route)) return 'not in the OpenAPI document';
  const schema = requestSchemaOf(openapi, route);
  const unknown = schema ? unsupportedKeywords(schema, openapi.components.schemas) : [];
  if (unknown.length) return `request schema uses keywords the generator does not know: ${unknown.join(', ')}`;
  return undefined;
}

export function caseArbitrary(ctx: FuzzContext, route: RouteAccess): fc.Arbitrary<FuzzCase> {
  const { world, openapi } = ctx;
  const segments = route.path.split('/');
  const hasParams = segments.some((s) => s.startsWith(':'));
  const isPublic = route.access === 'public';
  const principal: fc.Arbitrary<PrincipalChoice> = isPublic
    ? fc.constantFrom<PrincipalChoice>('own', 'own', 'own', 'own', 'own', 'own', 'none', 'garbage', 'wrong-type')
    : fc.oneof(
        { weight: 12, arbitrary: fc.constant<PrincipalChoice>('own') },
        { weight: hasParams ? 4 : 1, arbitrary: fc.constant<PrincipalChoice>('foreign') },
        { weight: 1, arbitrary: fc.constantFrom<PrincipalChoice>('none', 'garbage', 'wrong-type') },
      );

  const segmentArbs = segments.map((segment, index) => {
    if (!segment.startsWith(':')) return fc.constant(segment);
    const kind = kindOfParam(segments, index);
    const real = !kind
      ? anyShapedId
      : agentOnly(route) && kind === 'agent'
        ? fc.oneof({ weight: 8, arbitrary: fc.constant(world.agentA.id) }, { weight: 1, arbitrary: fc.constant(world.agentB.id) }, { weight: 1, arbitrary: shapedId('agent') })
        : idOf(world, [kind], 'targets');
    return fc.oneof({ weight: 8, arbitrary: real }, { weight: 2, arbitrary: garbageSegment });
  });
  const path = fc.tuple(...segmentArbs).map((parts) => parts.join('/'));

  const schema = requestSchemaOf(openapi, route);
  const options = {
    schemas: openapi.components.schemas,
    hint: worldHints(world),
    // The claim long poll: a valid wait is time, not input (values the API must refuse are still generated).
    override: (name: string) => (name === 'wait_seconds' ? fc.constant(0) : undefined),
  };
  const body: fc.Arbitrary<Body> = schema
    ? fc.oneof(
        { weight: 3, arbitrary: anyValue(schema, 'body', { ...options, hostility: 0 }).map((value): Body => ({ kind: 'json', value })) },
        { weight: 6, arbitrary: anyValue(schema, 'body', { ...options, hostility: 3 }).map((value): Body => ({ kind: 'json', value })) },
        { weight: 1, arbitrary: fc.oneof(hostileValue, deepValue).map((value): Body => ({ kind: 'json', value })) },
        { weight: 1, arbitrary: rawBody },
      )
    : fc.oneof(
        { weight: 6, arbitrary: fc.constant<Body>({ kind: 'none' }) },
        { weight: 2, arbitrary: fc.oneof(hostileValue, fc.dictionary(fc.string({ maxLength: 8 }), hostileValue, { maxKeys: 3 })).map((value): Body => ({ kind: 'json', value })) },
        { weight: 1, arbitrary: rawBody },
      );

  const idempotencyKey = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_:.'.split('')), minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('has space', 'x'.repeat(256), '', '\u00e9t\u00e9', '\t') },
  );
  const requestId = fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('short', 'has space in it', 'x'.repeat(200), '\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa\u00f9\u00f8', 'fuzz-request-0001') },
  );

  return fc.record({ principal, garbageCredential: credentialGarbage, path, query: queryString, idempotencyKey, requestId, body }).map((c) => {
    // The counterexample fast-check prints: readable, and long strings cut.
    Object.defineProperty(c, fc.toStringMethod, { value: () => renderCase(route, c), enumerable: false });
    return c;
  });
}

const cut = (text: string, max = 600) => (text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text);

function bodyText(c: FuzzCase): string | undefined {
  if (c.body.kind === 'none') return undefined;
  if (c.body.kind === 'raw') return c.body.text;
  return JSON.stringify(c.body.value) ?? 'null';
}

export function renderCase(route: RouteAccess, c: FuzzCase): string {
  const url = c.query ? `${c.path}?${c.query}` : c.path;
  const headers = [
    `as=${c.principal}${c.principal === 'garbage' ? ` ${JSON.stringify(c.garbageCredential).slice(0, 80)}` : ''}`,
    c.idempotencyKey !== null ? `Idempotency-Key=${JSON.stringify(c.idempotencyKey.slice(0, 80))}` : '',
    c.requestId !== null ? `X-Request-ID=${JSON.stringify(c.requestId.slice(0, 80))}` : '',
    c.body.kind === 'raw' ? `Content-Type=${JSON.stringify(c.body.contentType)}` : '',
  ].filter(Boolean);
  const text = bodyText(c);
  return `${route.method} ${cut(url, 300)} [${headers.join(' ')}]${text === undefined ? '' : ` body ${cut(JSON.stringify(text))}`}`;
}

/** The claim long poll waits up to wait_seconds when no job is there: a valid wait is clamped to 0 (see `override`). */
function clampWait(route: RouteAccess, text: string | undefined, c: FuzzCase): string | undefined {
  if (!route.path.endsWith('/jobs/claim') || c.body.kind !== 'json' || typeof c.body.value !== 'object' || c.body.value === null) return text;
  const wait = (c.body.value as Record<string, unknown>).wait_seconds;
  if ((typeof wait === 'number' || typeof wait === 'string') && Number(wait) > 0 && Number(wait) <= 30) return JSON.stringify({ ...(c.body.value as object), wait_seconds: 0 });
  return text;
}

export async function credentials(ctx: FuzzContext, route: RouteAccess, c: FuzzCase): Promise<Record<string, string>> {
  const { world } = ctx;
  switch (c.principal) {
    case 'none':
      return {};
    case 'garbage':
      return c.garbageCredential;
    case 'wrong-type':
      return agentOnly(route) || route.access === 'public' ? auth(world.ownerA.token) : { 'X-Agent-Secret': world.agentA.secret };
    case 'foreign':
      return agentOnly(route) ? { 'X-Agent-Secret': world.agentB.secret } : auth(world.ownerB.token);
    case 'own':
      if (route.access === 'public') return route.path.endsWith('/agents/enroll') ? { Authorization: `Bearer ${world.enrollmentTokens[0]}` } : {};
      if (agentOnly(route)) return { 'X-Agent-Secret': world.agentA.secret };
      if (route.permission === 'tenant.manage') return auth(world.admin.token);
      if (sessionBound(route)) return auth((await world.freshOwnerSession()).token);
      return auth(world.ownerA.token);
  }
}

/** Exact row counts of every table but the background ones, and the newest audit event id (ids are monotonic). */
export interface Snapshot {
  counts: Record<string, number>;
  lastAuditId: string;
}
export async function rowCounter(db: Client): Promise<() => Promise<Snapshot>> {
  const tables = (await db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows
    .map((r) => r.tablename)
    .filter((name) => !BACKGROUND_TABLES.has(name));
  const sql = `SELECT json_build_object(${tables.map((name) => `'${name}', (SELECT count(*) FROM "${name}")`).join(', ')}) AS counts, (SELECT coalesce(max(id), '') FROM audit_events) AS last`;
  return async () => {
    const row = (await db.query<{ counts: Record<string, number>; last: string }>(sql)).rows[0];
    return { counts: row.counts, lastAuditId: row.last };
  };
}

function envelopeProblem(res: Response): string | undefined {
  if (!/^application\/json/.test(String(res.headers['content-type']))) return `content type ${res.headers['content-type']}, not JSON`;
  const body = res.body as { error?: Record<string, unknown> } | undefined;
  if (!body || typeof body !== 'object' || Object.keys(body).join() !== 'error') return 'the body is not { error }';
  const e = body.error!;
  if (!e || Object.keys(e).sort().join() !== 'code,details,message,request_id') return `error keys ${Object.keys(e ?? {}).join()}, not code/message/details/request_id`;
  if (typeof e.code !== 'string' || !/^[A-Z][A-Z0-9_]+$/.test(e.code)) return `error.code ${JSON.stringify(e.code)}`;
  if (typeof e.message !== 'string' || !e.message) return 'error.message is not a non-empty string';
  if (e.details !== null && typeof e.details !== 'object') return 'error.details is neither null, an array nor an object';
  if (typeof e.request_id !== 'string' || e.request_id !== res.headers['x-request-id']) return `error.request_id ${JSON.stringify(e.request_id)} is not the X-Request-ID header ${res.headers['x-request-id']}`;
  return undefined;
}

/** Rows a 4xx wrote beyond what `ALLOWED_AUDIT_ON_4XX` / idempotency storage allow; empty when none. */
async function writeProblems(ctx: FuzzContext, c: FuzzCase, res: Response, before: Snapshot, after: Snapshot): Promise<string[]> {
  const problems: string[] = [];
  for (const table of Object.keys(after.counts)) {
    const delta = after.counts[table] - (before.counts[table] ?? 0);
    if (delta === 0) continue;
    if (table === 'audit_events') {
      // Every new event must be this request's and one of the allowed actions.
      const fresh = (await ctx.db.query<{ action: string; request_id: string | null }>('SELECT action, request_id FROM audit_events WHERE id > $1 ORDER BY id', [before.lastAuditId])).rows;
      const allowed = fresh.filter((e) => ALLOWED_AUDIT_ON_4XX.has(e.action) && e.request_id === res.headers['x-request-id']);
      if (allowed.length !== fresh.length || fresh.length !== delta) problems.push(`audit_events +${delta} (${fresh.map((e) => `${e.action} of ${e.request_id}`).join(', ') || 'none'})`);
      continue;
    }
    const storedOutcome = c.idempotencyKey !== null && IDEMPOTENCY_KEY.test(c.idempotencyKey) && !IDEMPOTENCY_NOT_STORED.has(res.status);
    if (table === 'idempotency_keys' && delta === 1 && storedOutcome) continue;
    problems.push(`${table} ${delta > 0 ? '+' : ''}${delta}`);
  }
  return problems;
}

/** Sends a case with the credentials `credentials` resolved (before the row counts: a fresh session writes rows). */
export async function sendCase(ctx: FuzzContext, route: RouteAccess, c: FuzzCase, headers: Record<string, string>): Promise<Response> {
  const url = c.query ? `${c.path}?${c.query}` : c.path;
  let req = request(ctx.t.http)[route.method.toLowerCase() as Method](url).set(headers);
  if (c.idempotencyKey !== null) req = req.set('Idempotency-Key', c.idempotencyKey);
  if (c.requestId !== null) req = req.set('X-Request-ID', c.requestId);
  const text = clampWait(route, bodyText(c), c);
  if (text === undefined) return req;
  const contentType = c.body.kind === 'raw' ? c.body.contentType : 'application/json';
  return contentType ? req.set('Content-Type', contentType).send(text) : req.send(text);
}

/** Runs the property for one route; throws (naming the route, seed and shrunk case) on the first violation. */
export async function fuzzRoute(ctx: FuzzContext, route: RouteAccess, runs: number, seed: number, counts: () => Promise<Snapshot>): Promise<RouteFuzzResult> {
  const started = Date.now();
  const statuses: Record<number, number> = {};
  let executed = 0;
  // The counts after a case are the counts before the next (nothing else writes: background tasks are slowed down),
  // except when getting the credentials wrote rows (a fresh session).
  let last: Snapshot | undefined;
  const property = fc.asyncProperty(caseArbitrary(ctx, route), async (c) => {
    const headers = await credentials(ctx, route, c);
    const before = (c.principal === 'own' && sessionBound(route)) || !last ? await counts() : last;
    last = undefined;
    const res = await sendCase(ctx, route, c, headers);
    const after = await counts();
    last = after;
    executed++;
    if (executed <= runs) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    const problems: string[] = [];
    if (res.status >= 500) problems.push(`status ${res.status}`);
    else if (res.status < 200 || (res.status >= 300 && res.status < 400)) problems.push(`unexpected status ${res.status}`);
    if (res.status >= 400) {
      const envelope = envelopeProblem(res);
      if (envelope) problems.push(`not the error envelope: ${envelope}`);
      if (res.status < 500) problems.push(...(await writeProblems(ctx, c, res, before, after)).map((p) => `written on ${res.status}: ${p}`));
    }
    if (problems.length) throw new Error(`${problems.join('; ')}\n  answer: ${res.status} ${cut(res.text ?? '', 500)}`);
  });
  try {
    await fc.assert(property, { numRuns: runs, seed, includeErrorInReport: true });
  } catch (error) {
    throw new Error(`fuzz ${routeKey(route)} (route seed ${seed}): ${(error as Error).message}`, { cause: error });
  }
  return { route: routeKey(route), runs, seed, statuses, ms: Date.now() - started };
}

/** FUZZ_SEED (default fixed, so CI is reproducible) mixed with the route, so each route has its own stream. */
export function routeSeed(base: number, route: RouteAccess): number {
  let h = base >>> 0;
  for (const ch of routeKey(route)) h = (Math.imul(h ^ ch.charCodeAt(0), 16777619) + 0x9e3779b9) >>> 0;
  return h | 0;
}
