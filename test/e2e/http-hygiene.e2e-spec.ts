import { generateKeyPairSync } from 'node:crypto';
import request, { Response } from 'supertest';
import { auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/** SPEC §1 "caching" (issue 9 item 7) and the metrics `route` label of 4xx answers (issue 9 item 8). */
describe('HTTP hygiene: caching headers, ETags, metrics route labels (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let member: Session;
  let workspaceId: string;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  beforeAll(async () => {
    // RS256, so that the JWKS (a route with caching of its own) is served.
    t = await createTestApp({ env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') } });
    const admin = await setupPlatform(t);
    const tenant = await createTenant(t, admin, 'hygiene');
    owner = tenant.owner;
    member = await createMember(t, owner, 'member@hygiene.example');
    const ws = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'payments', display_name: 'Payments' });
    if (ws.status !== 201) throw new Error(`workspace: ${ws.status} ${JSON.stringify(ws.body)}`);
    workspaceId = ws.body.id;
  }, 120_000);
  afterAll(() => t.close());

  const headersOf = (label: string, res: Response) => ({ label, status: res.status, cache: res.headers['cache-control'], etag: res.headers.etag });

  it('every /api/v1 answer is Cache-Control: no-store without an ETag: reads, writes, one-time secrets, errors', async () => {
    const as = auth(owner.token);
    const key = await request(t.http).post('/api/v1/api-keys').set(as).send({ name: 'ci', permissions: ['workspace.read'] });
    expect(key.body.key).toEqual(expect.stringMatching(/^csk_/)); // the one-time reveal
    const answers = [
      headersOf('me', await request(t.http).get('/api/v1/auth/me').set(as)),
      headersOf('list', await request(t.http).get('/api/v1/workspaces').set(as)),
      headersOf('get', await request(t.http).get(`/api/v1/workspaces/${workspaceId}`).set(as)),
      headersOf('api key reveal', key),
      headersOf('login (tokens)', await request(t.http).post('/api/v1/auth/login').send({ email: 'member@hygiene.example', password: 'member password 123' })),
      headersOf('401', await request(t.http).get('/api/v1/workspaces')),
      headersOf('403', await request(t.http).get('/api/v1/workspaces').set(auth(member.token))),
      headersOf('404', await request(t.http).get('/api/v1/workspaces/wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B').set(as)),
      headersOf('unknown route', await request(t.http).get('/api/v1/no-such-thing').set(as)),
      headersOf('400', await request(t.http).post('/api/v1/workspaces').set(as).send({ slug: '' })),
      headersOf('version', await request(t.http).get('/api/v1/version')),
    ];
    expect(answers).toEqual(answers.map(({ label, status }) => ({ label, status, cache: 'no-store', etag: undefined })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 201, 200, 401, 403, 404, 404, 400, 200]);
  });

  it('the permission catalog keeps its own caching, with an ETag it computes and If-None-Match → 304', async () => {
    const as = auth(owner.token);
    const first = await request(t.http).get('/api/v1/permissions').set(as);
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('private, max-age=60');
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await request(t.http).get('/api/v1/permissions').set(as);
    expect(again.headers.etag).toBe(first.headers.etag); // stable for the same catalog

    const notModified = await request(t.http).get('/api/v1/permissions').set(as).set('If-None-Match', first.headers.etag);
    expect(notModified.status).toBe(304);
    expect(notModified.text ?? '').toBe('');
    expect(notModified.headers.etag).toBe(first.headers.etag);
    expect(notModified.headers['cache-control']).toBe('private, max-age=60');
    const weak = await request(t.http).get('/api/v1/permissions').set(as).set('If-None-Match', `"other", W/${first.headers.etag}`);
    expect(weak.status).toBe(304);

    const changed = await request(t.http).get('/api/v1/permissions').set(as).set('If-None-Match', '"not-the-current-tag"');
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual(first.body);
    // An unauthenticated call is refused like any other, uncached.
    const refused = await request(t.http).get('/api/v1/permissions').set('If-None-Match', first.headers.etag);
    expect(headersOf('refused', refused)).toEqual({ label: 'refused', status: 401, cache: 'no-store', etag: undefined });
  });

  it('the JWKS keeps its public caching, without an automatic ETag', async () => {
    const jwks = await request(t.http).get('/.well-known/jwks.json');
    expect(headersOf('jwks', jwks)).toEqual({ label: 'jwks', status: 200, cache: 'public, max-age=300', etag: undefined });
  });

  describe('metrics route label', () => {
    const countOf = (metrics: string, method: string, route: string, statusClass: string): number => {
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes(`method="${method}"`) && l.includes(`route="${route}"`) && l.includes(`status_class="${statusClass}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const scrape = async () => (await request(t.http).get('/metrics')).text;

    it('names the route template for every answer of a real route (401, 403, 405, 400 from the pipe, the body parser and the URL check)', async () => {
      const before = await scrape();
      const path = `/api/v1/workspaces/${workspaceId}`;
      const as = auth(owner.token);
      const calls: [string, () => Promise<Response>, number][] = [
        ['GET', () => request(t.http).get(path), 401],
        ['GET', () => request(t.http).get(path).set(auth(member.token)), 403],
        ['PATCH', () => request(t.http).patch(path).set(as).send({ display_name: 42 }), 400], // validation pipe
        ['PATCH', () => request(t.http).patch(path).set(as).set('Content-Type', 'application/json').send('{"display_name":'), 400], // body parser
        ['PATCH', () => request(t.http).patch(path).set(as).send({ display_name: 'a\u0000b' }), 400], // body check
        ['PATCH', () => request(t.http).patch(path).set(as).set('Content-Type', 'text/plain').send('x'), 415],
        ['GET', () => request(t.http).get('/api/v1/workspaces/wsp_%00x').set(as), 400], // URL check
        ['PUT', () => request(t.http).put(path).set(as).send({}), 405],
      ];
      const expected: Record<string, number> = {};
      for (const [method, call, status] of calls) {
        const res = await call();
        expect({ method, status: res.status }).toEqual({ method, status });
        const key = `${method} ${Math.floor(status / 100)}xx`;
        expected[key] = (expected[key] ?? 0) + 1;
      }
      const after = await scrape();
      for (const [key, count] of Object.entries(expected)) {
        const [method, statusClass] = key.split(' ');
        expect({ key, added: countOf(after, method, '/api/v1/workspaces/:id', statusClass) - countOf(before, method, '/api/v1/workspaces/:id', statusClass) }).toEqual({ key, added: count });
      }
      expect(countOf(after, 'GET', '<unmatched>', '4xx') - countOf(before, 'GET', '<unmatched>', '4xx')).toBe(0);
    });

    it('keeps <unmatched> for unknown paths only', async () => {
      const before = await scrape();
      expect((await request(t.http).get('/api/v1/no-such-route/x')).status).toBe(404);
      expect((await request(t.http).get('/nowhere')).status).toBe(404);
      const after = await scrape();
      expect(countOf(after, 'GET', '<unmatched>', '4xx') - countOf(before, 'GET', '<unmatched>', '4xx')).toBe(2);
      expect(after).not.toContain('route="/{*path}"');
    });

    it('the access log names the route of a request refused before routing', async () => {
      const res = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).set('Content-Type', 'application/json').send('{"slug": nope');
      expect(res.status).toBe(400);
      const line = t.logs.parsed().find((l) => l.request_id === res.headers['x-request-id'] && typeof l.msg === 'string' && l.msg.startsWith('POST '));
      expect(line).toMatchObject({ msg: 'POST /api/v1/workspaces 400', route: '/api/v1/workspaces', status: 400 });
    });
  });
});
