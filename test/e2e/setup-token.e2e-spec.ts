import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

const admin = { email: 'root@example.com', password: 'correct horse battery', name: 'Root' };

describe('setup token (e2e)', () => {
  let dataDir: string;
  let db: TestDatabase;
  const apps: TestApp[] = [];
  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-setup-token-'));
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>) => {
    const t = await createTestApp({ db, env: { DATA_DIR: dataDir, ...env } });
    apps.push(t);
    return t;
  };
  const tokenFile = () => path.join(dataDir, 'setup-token');

  it('production without SETUP_TOKEN: a token generated at first start, logged once (warn); missing or wrong → 401; it survives a restart; the right one sets up', async () => {
    const first = await start({ NODE_ENV: 'production' });
    const warnings = first.logs.parsed().filter((l) => l.level === 'warn' && String(l.msg).includes('setup_token'));
    expect(warnings).toHaveLength(1);
    const token = /"setup_token": "([A-Za-z0-9_-]{20,})"/.exec(String(warnings[0].msg))?.[1];
    expect(token).toBeDefined();
    expect(fs.readFileSync(tokenFile(), 'utf8').trim()).toBe(token);
    expect(fs.statSync(tokenFile()).mode & 0o777).toBe(0o600);

    for (const body of [admin, { ...admin, setup_token: 'not-the-token-at-all' }, { ...admin, setup_token: '' }]) {
      const res = await request(first.http).post('/api/v1/auth/setup').send(body);
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'INVALID_CREDENTIALS', request_id: expect.any(String) });
    }
    expect((await request(first.http).get('/api/v1/auth/setup-status')).body).toEqual({ setup_required: true });

    // A restart before setup keeps the same token and does not print it again.
    await first.close();
    const second = await start({ NODE_ENV: 'production' });
    expect(second.logs.text).not.toContain(token);
    expect(second.logs.text).toContain(tokenFile());
    const ok = await request(second.http).post('/api/v1/auth/setup').send({ ...admin, setup_token: token });
    expect(ok.status).toBe(201);
    expect(ok.body.user.email).toBe(admin.email);
    expect(fs.existsSync(tokenFile())).toBe(false); // spent
    expect((await request(second.http).post('/api/v1/auth/setup').send({ ...admin, setup_token: token })).status).toBe(409);
  });

  it('production with SETUP_TOKEN: only that value opens setup, and nothing is generated', async () => {
    const t = await start({ NODE_ENV: 'production', SETUP_TOKEN: 'operator-chosen-setup-token' });
    expect(fs.existsSync(tokenFile())).toBe(false);
    expect(t.logs.text).not.toContain('setup_token');
    expect((await request(t.http).post('/api/v1/auth/setup').send({ ...admin, setup_token: 'operator-chosen-setup-tokeN' })).status).toBe(401);
    expect((await request(t.http).post('/api/v1/auth/setup').send({ ...admin, setup_token: 'operator-chosen-setup-token' })).status).toBe(201);
  });

  it('outside production the field is optional and ignored', async () => {
    const t = await start({ NODE_ENV: 'development', SETUP_TOKEN: 'operator-chosen-setup-token' });
    expect(fs.existsSync(tokenFile())).toBe(false);
    expect((await request(t.http).post('/api/v1/auth/setup').send({ ...admin, setup_token: 'anything' })).status).toBe(201);
  });

  it('the OpenAPI document describes setup_token and the 401', async () => {
    const t = await start({});
    const doc = (await request(t.http).get('/openapi.json')).body;
    const setup = doc.paths['/api/v1/auth/setup'].post;
    expect(Object.keys(setup.responses)).toEqual(expect.arrayContaining(['401', '409']));
    const schema = doc.components.schemas.SetupDto;
    expect(schema.properties.setup_token).toMatchObject({ type: 'string', description: expect.stringContaining('NODE_ENV=production') });
    expect(schema.required).not.toContain('setup_token');
  });
});
