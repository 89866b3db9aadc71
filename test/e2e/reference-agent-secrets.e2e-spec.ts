import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AgentProcess } from '../helpers/agent-process';
import { assign, auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

jest.setTimeout(60_000);

interface Secret {
  id: string;
  ref: string;
  status: string;
}

/**
 * Approved secret requests executed end to end by the real reference agent (child process) against the real app on
 * a real port (SPEC §5): read (one-time reveal), patch (sealed value written to the file) and rotate (the agent makes
 * the value). No value may surface in the database, the app logs, the agent's output or (patch/rotate) the API.
 */
describe('reference agent: secret read, patch and rotate (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let requester: Session;
  let approver: Session;
  let url: string;
  let root: string;
  let dir: string;
  let agent: AgentProcess;
  let secretId: string;
  const INITIAL = 'initial-db-password';
  const secretFile = () => join(dir, 'db', 'password');
  /** Every API response body of the patch and rotate flows, to prove the value never comes back. */
  let responses: string[] = [];

  const until = async <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${agent.stdout}\n${agent.stderr}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  const record = (res: request.Response) => {
    responses.push(JSON.stringify(res.body));
    return res;
  };

  /** Approves a pending request (→ executing) and waits for the agent's job to complete it. */
  const approveAndComplete = async (requestId: string) => {
    const approved = record(await request(t.http).post(`/api/v1/requests/${requestId}/approve`).set(auth(approver.token)).send({}));
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('executing');
    let last: Record<string, unknown> = {};
    await until(`request ${requestId} to complete`, async () => {
      const res = record(await request(t.http).get(`/api/v1/requests/${requestId}`).set(auth(requester.token)));
      last = res.body;
      if (res.body.status === 'failed') throw new Error(`request failed: ${JSON.stringify(res.body)}\n${agent.stdout}`);
      return res.body.status === 'completed';
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nlast seen: ${JSON.stringify(last)}`);
    });
    const job = record(await request(t.http).get(`/api/v1/jobs/${approved.body.job_id}`).set(auth(owner.token)));
    expect(job.body).toMatchObject({ status: 'succeeded', error: null });
    return job.body as { id: string; type: string; result: Record<string, unknown> };
  };

  /** Every row of every table of the test database; bytea columns as text too, so a plaintext there is found. */
  const dumpDatabase = async (): Promise<string> => {
    const c = await t.db.client();
    try {
      const tables = await c.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
      expect(tables.rows.length).toBeGreaterThan(5);
      let dump = '';
      for (const { table_name } of tables.rows) {
        const rows = await c.query(`SELECT * FROM "${table_name.replace(/"/g, '""')}"`);
        dump += `${table_name}:` + JSON.stringify(rows.rows, (_k, v: unknown) => (isSerializedBuffer(v) ? Buffer.from(v.data).toString('latin1') : v)) + '\n';
      }
      return dump;
    } finally {
      await c.end();
    }
  };

  const expectNowhere = async (value: string, where: { api: boolean }) => {
    const haystacks: Record<string, string> = {
      database: await dumpDatabase(),
      app_logs: t.logs.text,
      agent_stdout: agent.stdout,
      agent_stderr: agent.stderr,
      ...(where.api ? { api_responses: responses.join('\n') } : {}),
    };
    for (const [name, text] of Object.entries(haystacks)) {
      if (text.includes(value)) throw new Error(`${name} contains the secret value`);
      // Also not in the encodings a careless log or column could use.
      for (const encoded of [Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')]) {
        if (text.includes(encoded)) throw new Error(`${name} contains the secret value (encoded)`);
      }
    }
  };

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    await new Promise<void>((r) => t.http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
    const admin = await setupPlatform(t);
    const tenant = await createTenant(t, admin, 'agentsecrets');
    owner = tenant.owner;
    const ws = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'laptop', display_name: 'Laptop' });
    expect(ws.status).toBe(201);
    const env = await request(t.http).post(`/api/v1/workspaces/${ws.body.id}/environments`).set(auth(owner.token)).send({ name: 'dev' });
    expect(env.status).toBe(201);
    const tok = await request(t.http).post('/api/v1/agents/enrollment-tokens').set(auth(owner.token)).send({ workspace_id: ws.body.id, environment_id: env.body.id, name: 'laptop' });
    expect(tok.status).toBe(201);

    root = mkdtempSync(join(tmpdir(), 'countersign-agent-secrets-'));
    dir = join(root, 'secrets');
    mkdirSync(join(dir, 'db'), { recursive: true });
    writeFileSync(secretFile(), INITIAL, { mode: 0o640 });
    agent = new AgentProcess(['--url', url, '--dir', dir, '--name', 'laptop-agent', '--cluster', 'laptop', '--wait', '1', '--heartbeat', '2'], { COUNTERSIGN_ENROLL_TOKEN: tok.body.token });
    await agent.waitForLog('agent ready');

    const discovery = await request(t.http).post('/api/v1/jobs').set(auth(owner.token)).send({ type: 'discovery.run', capability: 'file', workspace_id: ws.body.id });
    expect(discovery.status).toBe(201);
    const found = await until('discovery to report db/password', async () => {
      const res = await request(t.http).get('/api/v1/secrets?cluster_name=laptop').set(auth(owner.token));
      return (res.body.data as Secret[]).find((s) => s.ref === 'db/password' && s.status === 'active');
    });
    secretId = found.id;

    requester = await createMember(t, owner, 'requester@agentsecrets.example');
    approver = await createMember(t, owner, 'approver@agentsecrets.example');
    await assign(t, owner, requester.userId, 'requester', 'tenant', tenant.tenantId);
    await assign(t, owner, approver.userId, 'approver', 'tenant', tenant.tenantId);
  });

  afterAll(async () => {
    await agent?.kill();
    await t?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    responses = [];
  });

  it('read: approved → the agent wraps the file content → the requester reveals it once, then 410 WRAP_CONSUMED', async () => {
    const created = await request(t.http).post('/api/v1/requests/read').set(auth(requester.token)).send({ secret_id: secretId, reason: 'debug the staging outage' });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending_approval');
    const job = await approveAndComplete(created.body.id);
    expect(job.type).toBe('secret.read');
    expect(job.result).toEqual({ wrap_id: expect.stringMatching(/^wrp_/) });

    const wraps = await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps`).set(auth(requester.token));
    expect(wraps.status).toBe(200);
    expect(wraps.body).toEqual({ data: [{ id: job.result.wrap_id, created_at: expect.any(String), expires_at: expect.any(String), consumed_at: null }], pagination: { limit: 50, next_cursor: null, has_more: false } });
    const revealed = await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps/${job.result.wrap_id}`).set(auth(requester.token));
    expect(revealed.status).toBe(200);
    expect(revealed.body).toEqual({ value: INITIAL });
    const again = await request(t.http).get(`/api/v1/requests/${created.body.id}/wraps/${job.result.wrap_id}`).set(auth(requester.token));
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('WRAP_CONSUMED');
    // The reveal destroyed the ciphertext; the value was never stored or logged anywhere.
    expect(readFileSync(secretFile(), 'utf8')).toBe(INITIAL);
    await expectNowhere(INITIAL, { api: false });
  });

  it('patch: approved → the file holds the new value (mode kept); no plaintext in the database, the app logs or the agent output', async () => {
    const value = `patched-${randomBytes(12).toString('hex')}`;
    const created = record(await request(t.http).post('/api/v1/requests').set(auth(requester.token)).send({ type: 'secret.patch', title: 'new db password', reason: 'scheduled change', secret_id: secretId, value }));
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending_approval');
    const job = await approveAndComplete(created.body.id);
    expect(job).toMatchObject({ type: 'secret.patch', result: { written: true } });
    expect(readFileSync(secretFile(), 'utf8')).toBe(value);
    expect(statSync(secretFile()).mode & 0o777).toBe(0o640);
    await expectNowhere(value, { api: true });
  });

  it('rotate: approved → the agent writes a fresh value that appears in no API response, log or database row', async () => {
    const before = readFileSync(secretFile(), 'utf8');
    const created = record(await request(t.http).post('/api/v1/requests').set(auth(requester.token)).send({ type: 'secret.rotate', title: 'rotate db password', reason: 'quarterly rotation', secret_id: secretId }));
    expect(created.status).toBe(201);
    const job = await approveAndComplete(created.body.id);
    expect(job).toMatchObject({ type: 'secret.rotate', result: { rotated: true } });
    const after = readFileSync(secretFile(), 'utf8');
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(statSync(secretFile()).mode & 0o777).toBe(0o640);
    const jobs = record(await request(t.http).get('/api/v1/jobs?limit=200').set(auth(owner.token)));
    expect(jobs.status).toBe(200);
    await expectNowhere(after, { api: true });
  });

  it('refs that escape --dir (.., a symlink out) or name a missing file: the job and the request fail, nothing outside is touched', async () => {
    const outside = join(root, 'outside-secret');
    writeFileSync(outside, 'outside-value');
    symlinkSync(outside, join(dir, 'db', 'link'));
    // Discovery never reports such refs; report them as this agent would if it were buggy or compromised.
    const state = JSON.parse(readFileSync(join(root, '.countersign-agent.json'), 'utf8')) as { agent_id: string; agent_secret: string };
    const refs = ['../outside-secret', 'db/link', 'db/missing'];
    const reported = await request(t.http)
      .post(`/api/v1/agents/${state.agent_id}/secrets/bulk`)
      .set('X-Agent-Secret', state.agent_secret)
      .send({ secrets: refs.map((ref) => ({ cluster_name: 'laptop', provider: 'file', ref, labels: {} })) });
    expect(reported.status).toBe(200);
    const listed = (await request(t.http).get('/api/v1/secrets?cluster_name=laptop&limit=200').set(auth(owner.token))).body.data as Secret[];
    const failures: Record<string, string> = {};
    for (const ref of refs) {
      const id = listed.find((s) => s.ref === ref)!.id;
      const body = ref === 'db/missing' ? { secret_id: id, reason: 'read a missing file' } : { type: 'secret.rotate', title: 'escape', reason: 'must be refused', secret_id: id };
      const created = await request(t.http).post(ref === 'db/missing' ? '/api/v1/requests/read' : '/api/v1/requests').set(auth(requester.token)).send(body);
      expect(created.status).toBe(201);
      const approved = await request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(approver.token)).send({});
      expect(approved.body.status).toBe('executing');
      await until(`request for ${ref} to fail`, async () => (await request(t.http).get(`/api/v1/requests/${created.body.id}`).set(auth(requester.token))).body.status === 'failed');
      const job = await request(t.http).get(`/api/v1/jobs/${approved.body.job_id}`).set(auth(owner.token));
      expect(job.body).toMatchObject({ status: 'failed', result: null, error: expect.any(String) });
      failures[ref] = job.body.error;
    }
    expect(failures['../outside-secret']).toMatch(/Invalid ref/);
    expect(failures['db/link']).toMatch(/symlink/);
    expect(failures['db/missing']).toMatch(/No secret file/);
    expect(readFileSync(outside, 'utf8')).toBe('outside-value');
    expect(lstatSync(join(dir, 'db', 'link')).isSymbolicLink()).toBe(true);
    expect(agent.stdout).not.toContain('outside-value');
  });
});

function isSerializedBuffer(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);
}
