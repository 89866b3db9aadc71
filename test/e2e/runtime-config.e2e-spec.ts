import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from '../helpers/test-app';
import { FixtureModule } from './fixtures/fixture.module';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function get(agent: http.Agent, port: number, pathname: string): Promise<{ status: number; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

describe('HTTP keep-alive (e2e)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('the app server keeps idle connections 65 s by default (headers 66 s), so a connection idle past Node’s 5 s is reused', async () => {
    t = await createTestApp();
    expect(t.http.keepAliveTimeout).toBe(65000);
    expect(t.http.headersTimeout).toBe(66000);
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    const { port } = t.http.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(agent, port, '/healthz')).toEqual({ status: 200, reusedSocket: false });
      await sleep(6000); // past Node's default keepAliveTimeout (5 s), which closed the socket here before
      expect(await get(agent, port, '/healthz')).toEqual({ status: 200, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });

  it('HTTP_KEEP_ALIVE_TIMEOUT_MS sets it', async () => {
    t = await createTestApp({ env: { HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000' } });
    expect(t.http.keepAliveTimeout).toBe(120000);
    expect(t.http.headersTimeout).toBe(121000);
  });
});

describe('statement timeout (e2e)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('every pool connection has statement_timeout = DB_STATEMENT_TIMEOUT_MS (default 5 s)', async () => {
    t = await createTestApp();
    const [{ statement_timeout: value }] = (await t.app.get(DataSource).query('SHOW statement_timeout')) as { statement_timeout: string }[];
    expect(value).toBe('5s');
  });

  it('a statement cut by it answers 503 STORAGE_UNAVAILABLE in the envelope, and the pool keeps serving', async () => {
    t = await createTestApp({ env: { DB_STATEMENT_TIMEOUT_MS: '300' }, imports: [FixtureModule] });
    const res = await request(t.http).get('/api/v1/fixtures/db-sleep?ms=3000');
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', request_id: expect.any(String) });
    expect(t.logs.text).toContain('canceling statement due to statement timeout');
    expect((await request(t.http).get('/api/v1/fixtures/db-sleep?ms=10')).status).toBe(200);
  });
});
