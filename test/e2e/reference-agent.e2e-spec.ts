import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AgentProcess } from '../helpers/agent-process';
import { auth, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

jest.setTimeout(60_000);

interface Job {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
  error: string | null;
}
interface Secret {
  ref: string;
  status: string;
  labels: Record<string, string>;
  provider: string;
  cluster_name: string;
  agent_id: string | null;
}

/** The reference agent (real child process) against the real app on a real port (SPEC §5). */
describe('reference agent (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let url: string;
  let workspaceId: string;
  let enrollToken: string;
  let root: string;
  let dir: string;
  let statePath: string;
  const agents: AgentProcess[] = [];
  const jobIds: string[] = [];
  const WAIT_SECONDS = 2;
  let stoppedAt = 0;

  const start = (extra: string[] = []) => {
    const a = new AgentProcess(['--url', url, '--dir', dir, '--name', 'laptop-agent', '--cluster', 'laptop', '--wait', String(WAIT_SECONDS), '--heartbeat', '2', ...extra]);
    agents.push(a);
    return a;
  };

  const until = async <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  const enqueueDiscovery = async (): Promise<string> => {
    const res = await request(t.http).post('/api/v1/jobs').set(auth(owner.token)).send({ type: 'discovery.run', capability: 'file', workspace_id: workspaceId });
    expect(res.status).toBe(201);
    jobIds.push(res.body.id);
    return res.body.id as string;
  };

  const finished = async (id: string) => {
    let last: unknown;
    try {
      return await until(`job ${id} to finish`, async () => {
        const res = await request(t.http).get(`/api/v1/jobs/${id}`).set(auth(owner.token));
        if (res.status !== 200) throw new Error(`GET job: ${res.status} ${JSON.stringify(res.body)}`);
        last = res.body;
        return ['succeeded', 'failed', 'dead'].includes(res.body.status) ? (res.body as Job) : undefined;
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: err });
    }
  };

  const secrets = async (query = ''): Promise<Secret[]> => {
    const res = await request(t.http).get(`/api/v1/secrets?cluster_name=laptop&limit=200${query}`).set(auth(owner.token));
    expect(res.status).toBe(200);
    return res.body.data as Secret[];
  };

  beforeAll(async () => {
    // The test polls jobs and secrets often: lift the per-user limit so polling never meets a 429.
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000' } });
    await new Promise<void>((r) => t.http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
    const admin = await setupPlatform(t);
    ({ owner } = await createTenant(t, admin, 'agentco'));
    const ws = await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'laptop', display_name: 'Laptop' });
    expect(ws.status).toBe(201);
    workspaceId = ws.body.id;
    const tok = await request(t.http).post('/api/v1/agents/enrollment-tokens').set(auth(owner.token)).send({ workspace_id: workspaceId, name: 'laptop' });
    expect(tok.status).toBe(201);
    enrollToken = tok.body.token;
    expect(enrollToken).toMatch(/^cse_/);

    root = mkdtempSync(join(tmpdir(), 'countersign-agent-'));
    dir = join(root, 'secrets');
    mkdirSync(join(dir, 'api'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'db-password'), 'hunter2-db-value');
    writeFileSync(join(dir, 'tls.key'), 'tls-key-value');
    writeFileSync(join(dir, 'api', 'token'), 'api-token-value');
    writeFileSync(join(dir, '.hidden'), 'hidden-value');
    writeFileSync(join(dir, '.git', 'config'), 'not a secret');
    writeFileSync(join(dir, 'labels.json'), JSON.stringify({ 'api/token': { team: 'payments' } }));
    statePath = join(root, '.countersign-agent.json'); // the default: <dir>/../.countersign-agent.json
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill()));
    await t?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('enrolls with the token, registers an X25519 key and keeps its state in a 0600 file', async () => {
    const agent = start(['--enroll-token', enrollToken]);
    await agent.waitForLog('agent ready');
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    expect(state).toMatchObject({ url, agent_id: expect.stringMatching(/^agt_/), agent_secret: expect.any(String) });
    expect(Buffer.from(state.x25519_private_key, 'base64')).toHaveLength(32);
    expect(Buffer.from(state.public_key, 'base64')).toHaveLength(32);
    const listed = await request(t.http).get('/api/v1/agents').set(auth(owner.token));
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).toMatchObject({ id: state.agent_id, name: 'laptop-agent', cluster_name: 'laptop', capabilities: ['file'], status: 'online', has_public_key: true, version: '0.1.0' });
  });

  it('discovery.run reports every regular file (nested too) with sidecar labels, skipping dotfiles and labels.json', async () => {
    const job = await finished(await enqueueDiscovery());
    expect(job).toMatchObject({ status: 'succeeded', error: null, result: { created: 3, updated: 0, unchanged: 0, removed: 0 } });
    const found = await secrets();
    expect(found.map((s) => s.ref).sort()).toEqual(['api/token', 'db-password', 'tls.key']);
    for (const s of found) expect(s).toMatchObject({ provider: 'file', cluster_name: 'laptop', status: 'active' });
    expect(found.find((s) => s.ref === 'api/token')!.labels).toEqual({ team: 'payments' });
    expect(found.find((s) => s.ref === 'db-password')!.labels).toEqual({});
    const labelled = await secrets('&label=team:payments');
    expect(labelled.map((s) => s.ref)).toEqual(['api/token']);
  });

  it('a deleted file becomes removed on the next discovery; the job list shows both jobs succeeded', async () => {
    unlinkSync(join(dir, 'db-password'));
    const job = await finished(await enqueueDiscovery());
    expect(job).toMatchObject({ status: 'succeeded', result: { created: 0, removed: 1 } });
    const all = await secrets();
    expect(all.find((s) => s.ref === 'db-password')!.status).toBe('removed');
    expect(all.filter((s) => s.status === 'active').map((s) => s.ref).sort()).toEqual(['api/token', 'tls.key']);
    const list = await request(t.http).get('/api/v1/jobs?limit=200').set(auth(owner.token));
    const ours = (list.body.data as Job[]).filter((j) => jobIds.includes(j.id));
    expect(ours).toHaveLength(2);
    expect(ours.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('SIGTERM during the long-poll: exits 0 promptly (well before the long-poll or a job grace would end)', async () => {
    const agent = agents[0];
    const exit = await agent.stop('SIGTERM');
    stoppedAt = Date.now();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(8000);
    expect(agent.logs().some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('a restart reuses the state file: no enrollment token needed, no second agent', async () => {
    const agent = start();
    await agent.waitForLog('agent ready');
    expect(agent.logs().some((l) => l.msg === 'enrolled')).toBe(false);
    const listed = await request(t.http).get('/api/v1/agents').set(auth(owner.token));
    expect(listed.body.data).toHaveLength(1);
    // The restarted agent still works. The server keeps serving the stopped agent's aborted long-poll until its
    // wait_seconds run out and would lease a job enqueued meanwhile to nobody (until the lease expires), so enqueue
    // only after that window has closed.
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + WAIT_SECONDS * 1000 + 500 - Date.now())));
    const job = await finished(await enqueueDiscovery());
    expect(job).toMatchObject({ status: 'succeeded', result: { unchanged: 2, created: 0, removed: 0 } });
    const exit = await agent.stop('SIGINT');
    expect(exit).toMatchObject({ code: 0 });
    expect(exit.ms).toBeLessThan(8000);
  });

  it('a revoked agent logs it and exits non-zero', async () => {
    const agent = start();
    await agent.waitForLog('agent ready');
    const { agent_id } = JSON.parse(readFileSync(statePath, 'utf8'));
    const revoked = await request(t.http).post(`/api/v1/agents/${agent_id}/revoke`).set(auth(owner.token));
    expect(revoked.status).toBe(200);
    const exit = await agent.stop('SIGCONT', 10_000); // SIGCONT is harmless: just wait for the agent's own exit
    expect(exit.code).toBe(1);
    expect(agent.logs().some((l) => l.level === 'error' && /rejected the agent secret/.test(String(l.msg)))).toBe(true);
  });

  it('never writes the agent secret, the enrollment token or a file value to a log, a projection or the audit trail', async () => {
    const { agent_secret } = JSON.parse(readFileSync(statePath, 'utf8'));
    const needles = [agent_secret as string, enrollToken, 'hunter2-db-value', 'tls-key-value', 'api-token-value', 'hidden-value'];
    const haystacks: Record<string, string> = {
      agent_output: agents.map((a) => a.stdout + a.stderr).join('\n'),
      app_logs: t.logs.text,
      agents: JSON.stringify((await request(t.http).get('/api/v1/agents').set(auth(owner.token))).body),
      jobs: JSON.stringify((await request(t.http).get('/api/v1/jobs?limit=200').set(auth(owner.token))).body),
      secrets: JSON.stringify((await request(t.http).get('/api/v1/secrets?limit=200').set(auth(owner.token))).body),
    };
    let cursor: string | null = null;
    let audit = '';
    let pages = 0;
    do {
      const res: request.Response = await request(t.http).get(`/api/v1/audit-events?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).set(auth(owner.token));
      expect(res.status).toBe(200);
      audit += JSON.stringify(res.body.data);
      cursor = res.body.pagination.next_cursor;
    } while (cursor && ++pages < 50);
    haystacks.audit_events = audit;
    expect(audit).toContain('agent.enrolled');
    for (const [where, text] of Object.entries(haystacks)) {
      for (const needle of needles) {
        if (text.includes(needle)) throw new Error(`${where} contains a secret (${needle.slice(0, 6)}…)`);
      }
    }
    // Every agent output line is one JSON object.
    for (const a of agents) for (const line of a.logs()) expect(line).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), msg: expect.any(String) }));
  });
});
