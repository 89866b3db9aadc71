import request from 'supertest';
import { installGracefulShutdown } from '../../src/common/lifecycle/graceful-shutdown';
import { createRootLogger } from '../../src/common/observability/logger';
import { FixtureModule } from './fixtures/fixture.module';
import { createTestApp, LogCapture, TestApp } from '../helpers/test-app';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';
import { TcpProxy } from '../helpers/tcp-proxy';

describe('database outage (e2e)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    t = await createTestApp({ db, databaseUrl: proxy.urlFor(db.url), imports: [FixtureModule] });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
    await db.drop();
  });

  it('answers 503 STORAGE_UNAVAILABLE and readiness 503 while PostgreSQL is unreachable, and recovers', async () => {
    expect((await request(t.http).get('/api/v1/fixtures/db')).status).toBe(200);
    await proxy.stop();

    const res = await request(t.http).get('/api/v1/fixtures/db');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('STORAGE_UNAVAILABLE');
    const ready = await request(t.http).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', checks: { database: 'down', redis: 'disabled' } });
    const health = await request(t.http).get('/api/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.db).toBe('disconnected');
    expect((await request(t.http).get('/healthz')).status).toBe(200);

    await proxy.restart();
    expect((await request(t.http).get('/api/v1/fixtures/db')).status).toBe(200);
    expect((await request(t.http).get('/readyz')).status).toBe(200);
  });
});

describe('graceful shutdown (e2e)', () => {
  it('turns readiness off at once, refuses new work, lets the in-flight request finish, then closes and exits 0', async () => {
    const t = await createTestApp({ imports: [FixtureModule] });
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${t.http.address().port}`;
    const exit = jest.fn();
    const afterClose = jest.fn(async () => undefined);
    const shutdown = installGracefulShutdown({ app: t.app, logger: createRootLogger('silent', new LogCapture()), graceSeconds: 10, afterClose, exit, listen: false });

    const slow = fetch(`${base}/api/v1/fixtures/slow?ms=1200`);
    await new Promise((r) => setTimeout(r, 150));
    const done = shutdown('SIGTERM');

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { lifecycle: string } }).checks.lifecycle).toBe('down');
    const refused = await fetch(`${base}/api/v1/version`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SHUTTING_DOWN');
    expect(exit).not.toHaveBeenCalled();

    const finished = await slow;
    expect(finished.status).toBe(200);
    expect(await finished.json()).toEqual({ slept_ms: 1200 });
    await done;
    expect(afterClose).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
    await t.db.drop();
  });
});
