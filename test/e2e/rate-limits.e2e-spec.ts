import Redis from 'ioredis';
import request from 'supertest';
import { ADMIN, auth, createMember, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

const describeWithRedis = process.env.REDIS_URL ? describe : describe.skip;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const wrongLogin = (t: TestApp, ip?: string) => {
  const req = request(t.http).post('/api/v1/auth/login');
  if (ip) req.set('X-Forwarded-For', ip);
  return req.send({ email: 'nobody@example.com', password: 'wrong password 123' });
};

/** A 429 as SPEC §1 describes it: the code, Retry-After and the three X-RateLimit-* headers. */
function expectRateLimited(res: request.Response, limit: number): void {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['x-ratelimit-limit']).toBe(String(limit));
  expect(res.headers['x-ratelimit-remaining']).toBe('0');
  const reset = Number(res.headers['x-ratelimit-reset']);
  expect(reset).toBeGreaterThanOrEqual(nowSeconds());
  expect(reset).toBeLessThanOrEqual(nowSeconds() + 61);
}

describe('rate limits (e2e)', () => {
  describe('auth class: keyed by client IP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { RATE_LIMIT_AUTH: '10' } });
    });
    afterAll(() => t.close());

    it('refuses the 11th login attempt of a minute with 429 RATE_LIMIT_EXCEEDED, Retry-After and X-RateLimit-*', async () => {
      for (let attempt = 1; attempt <= 10; attempt++) {
        const res = await wrongLogin(t);
        expect([attempt, res.status, res.body.error.code]).toEqual([attempt, 401, 'INVALID_CREDENTIALS']);
        expect(res.headers['x-ratelimit-limit']).toBe('10');
        expect(res.headers['x-ratelimit-remaining']).toBe(String(10 - attempt));
        expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(nowSeconds() - 1);
      }
      expectRateLimited(await wrongLogin(t), 10);
      // Correct credentials do not help: the budget is the IP's, not the account's.
      expectRateLimited(await request(t.http).post('/api/v1/auth/login').send({ email: ADMIN.email, password: ADMIN.password }), 10);
    });

    it('shares the budget across the auth-class routes and leaves the other classes alone', async () => {
      expectRateLimited(await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: 'x'.repeat(40) }), 10);
      expectRateLimited(await request(t.http).post('/api/v1/auth/setup').send(ADMIN), 10);
      const status = await request(t.http).get('/api/v1/auth/setup-status');
      expect(status.status).toBe(200);
      expect(status.headers['x-ratelimit-limit']).toBe('100');
    });
  });

  describe('default class: keyed by principal; probes never limited', () => {
    let t: TestApp;
    const limit = 5;
    beforeAll(async () => {
      t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: String(limit) } });
    });
    afterAll(() => t.close());

    it('gives each principal its own budget, with the headers on every limited response', async () => {
      // setupPlatform spends 1 of the admin's budget (GET /auth/me), createMember 1 more and 1 of the member's.
      const admin = await setupPlatform(t);
      const member = await createMember(t, admin, 'member@example.com');

      const first = await request(t.http).get('/api/v1/auth/me').set(auth(member.token));
      const second = await request(t.http).get('/api/v1/auth/me').set(auth(member.token));
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.headers['x-ratelimit-limit']).toBe(String(limit));
      expect(Number(first.headers['x-ratelimit-remaining'])).toBe(limit - 2);
      expect(Number(second.headers['x-ratelimit-remaining'])).toBe(limit - 3);
      const reset = Number(second.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(nowSeconds());
      expect(reset).toBeLessThanOrEqual(nowSeconds() + 61);

      const adminStatuses: number[] = [];
      for (let i = 0; i < limit; i++) adminStatuses.push((await request(t.http).get('/api/v1/auth/me').set(auth(admin.token))).status);
      // The admin had 3 left: 3 × 200, then 429.
      expect(adminStatuses).toEqual([200, 200, 200, 429, 429]);
      expectRateLimited(await request(t.http).get('/api/v1/tenants').set(auth(admin.token)), limit);

      const memberAgain = await request(t.http).get('/api/v1/auth/me').set(auth(member.token));
      expect(memberAgain.status).toBe(200);
      expect(memberAgain.headers['x-ratelimit-remaining']).toBe(String(limit - 4));
    });

    it('never limits /healthz, /livez, /readyz, /metrics, /openapi.json or /docs', async () => {
      for (let i = 0; i < 150; i++) {
        const res = await request(t.http).get('/healthz');
        expect([i, res.status]).toEqual([i, 200]);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
      for (const path of ['/livez', '/readyz', '/metrics', '/openapi.json', '/docs/']) {
        for (let i = 0; i < limit + 2; i++) {
          const res = await request(t.http).get(path);
          expect([path, res.status]).toEqual([path, 200]);
          expect(Object.keys(res.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
        }
      }
    });

    it('keys public routes of the default class by client IP', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < limit + 1; i++) statuses.push((await request(t.http).get('/api/v1/version')).status);
      expect(statuses).toEqual([...Array(limit).fill(200), 429]);
    });
  });
});

describeWithRedis('rate limits shared through Redis by two instances (e2e)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  // Both instances trust the loopback proxy, so each scenario can be a different client IP.
  const env = { REDIS_URL: process.env.REDIS_URL!, RATE_LIMIT_AUTH: '10', TRUST_PROXY: 'loopback' };

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await createTestApp({ db, env });
    b = await createTestApp({ db, env });
    redis = new Redis(process.env.REDIS_URL!);
  });
  afterAll(async () => {
    // Counters are namespaced by database name: remove only ours.
    const keys = await redis.keys(`{rl:${db.name}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it.each([
    ['instance A', '203.0.113.10'],
    ['instance B', '203.0.113.11'],
  ])('refuses the 11th login attempt of one IP with 429 when %s serves it (attempts alternate)', async (_name, ip) => {
    // Attempt 11 lands on A for the first IP (odd attempts on A) and on B for the second (odd attempts on B).
    const [odd, even] = ip.endsWith('10') ? [a, b] : [b, a];
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 11; attempt++) statuses.push((await wrongLogin(attempt % 2 ? odd : even, ip)).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    // And the other instance refuses it too.
    expectRateLimited(await wrongLogin(even, ip), 10);
    expect(await redis.keys(`{rl:${db.name}:auth:ip:${ip}:*`)).not.toHaveLength(0);
  });
});
