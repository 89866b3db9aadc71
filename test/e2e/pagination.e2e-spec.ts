import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';

describe('list pagination (e2e)', () => {
  let t: TestApp;
  let owner: Session;

  beforeAll(async () => {
    t = await createTestApp();
    owner = (await createTenant(t, await setupPlatform(t), 'pager')).owner;
    for (let i = 0; i < 7; i++) {
      await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: `ws-${i}`, display_name: `W${i}` }).expect(201);
    }
  });
  afterAll(() => t.close());

  it('walks every object exactly once with keyset cursors, stable under inserts', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(t.http).get(`/api/v1/workspaces?limit=3${cursor ? `&cursor=${cursor}` : ''}`).set(auth(owner.token));
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((w: { slug: string }) => w.slug));
      cursor = res.body.pagination.next_cursor;
      expect(res.body.pagination.has_more).toBe(cursor !== null);
      if (pages === 0) await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'late', display_name: 'Late' }).expect(201);
      pages++;
    } while (cursor);
    expect(seen).toEqual(['ws-0', 'ws-1', 'ws-2', 'ws-3', 'ws-4', 'ws-5', 'ws-6', 'late']);
    expect(pages).toBe(3);
  });

  it.each([
    ['limit=0', 'VALIDATION_FAILED', 'limit'],
    ['limit=201', 'VALIDATION_FAILED', 'limit'],
    ['cursor=bm90LWEtY3Vyc29y', 'INVALID_CURSOR', 'cursor'],
  ])('?%s → 400 %s naming %s', async (query, code, field) => {
    const res = await request(t.http).get(`/api/v1/workspaces?${query}`).set(auth(owner.token));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.details[0].field).toBe(field);
  });
});
