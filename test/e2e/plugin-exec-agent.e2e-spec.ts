import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { AgentProcess } from '../helpers/agent-process';
import { createTestApp, TestApp } from '../helpers/test-app';
import { assign, auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';

jest.setTimeout(180_000);

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCY-DO-NOT-LEAK';
const TYPE = 'aws.rotate_iam_access_key';

/**
 * Issue 10's acceptance with the REAL reference agent: aws-iam installed from the catalog with a write-only secret,
 * a team's own scripts run by the agent's `exec` handler (target on stdin, settings in the environment), the change
 * executed, rolled back, and failing; the secret reaches the script and nothing else (responses, app log, agent
 * output, audit payloads, any table).
 */
describe('plugin change requests executed by the reference agent (exec handler) (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let alice: Session; // requester holding aws.iam.rotate
  let bob: Session; // approver
  let base: string;
  let dir: string;
  let agent: AgentProcess;
  const seen: string[] = []; // every response body this test received

  const call = async (req: request.Test) => {
    const res = await req;
    seen.push(JSON.stringify(res.body));
    return res;
  };
  const get = (id: string) => call(request(t.http).get(`/api/v1/requests/${id}`).set(auth(alice.token)));
  const untilStatus = async (id: string, statuses: string[]) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const res = await get(id);
      if (statuses.includes(res.body.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`request ${id} still ${res.body.status}; agent output:\n${agent.stdout}\n${agent.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const createApproved = async (workspace: string, target: object) => {
    const created = await call(
      request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ type: TYPE, title: 'rotate deploy key', reason: 'key found in a CI log', workspace_id: workspace, target }),
    );
    expect(created.status).toBe(201);
    const approved = await call(request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(bob.token)).send({}));
    expect(approved.body.status).toBe('executing');
    return created.body.id as string;
  };

  let workspace: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    let tenantId: string;
    ({ owner, tenantId } = await createTenant(t, await setupPlatform(t), 'execs'));
    workspace = (await request(t.http).post('/api/v1/workspaces').set(auth(owner.token)).send({ slug: 'cloud', display_name: 'Cloud' })).body.id;

    // The team's own scripts, as agent/README.md describes them.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-agent-'));
    fs.writeFileSync(
      path.join(dir, 'rotate.sh'),
      [
        '#!/bin/sh',
        'set -eu',
        'target=$(cat)',
        // Proves the write-only setting reached the environment without writing it anywhere.
        'printf "%s" "$COUNTERSIGN_SETTING_SECRET_ACCESS_KEY" | sha256sum | cut -d" " -f1 > secret.sha256',
        'case "$target" in *fail-me*) echo "IAM refused: user fail-me is locked" >&2; exit 4;; esac',
        'printf "%s" "$target" > rotated-target.json',
        'echo "rotating in $COUNTERSIGN_SETTING_REGION with $COUNTERSIGN_SETTING_SECRET_ACCESS_KEY"',
        `echo '{"old_access_key_id":"AKIAOLD","new_access_key_id":"AKIANEW"}'`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(dir, 'restore.sh'),
      ['#!/bin/sh', 'set -eu', 'cat > restored-target.json', 'printf "%s" "$COUNTERSIGN_ORIGINAL_RESULT" > restored-from.json', `echo '{"active_access_key_id":"AKIAOLD"}'`, ''].join('\n'),
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ exec: [{ type: TYPE, capability: 'aws-iam', run: ['./rotate.sh'], rollback: ['./restore.sh'], timeout_seconds: 30 }] }));

    const installed = await call(request(t.http).post('/api/v1/plugins').set(auth(owner.token)).send({ catalog_id: 'aws-iam', settings: { region: 'eu-west-1', secret_access_key: SECRET } }));
    expect(installed.status).toBe(201);
    expect(installed.body.settings).toEqual({ region: 'eu-west-1', secret_access_key: '***' });

    const role = await call(request(t.http).post('/api/v1/roles').set(auth(owner.token)).send({ name: 'iam-rotator', permissions: ['aws.iam.rotate'] }));
    expect(role.status).toBe(201);
    alice = await createMember(t, owner, 'alice@execs.example');
    bob = await createMember(t, owner, 'bob@execs.example');
    await assign(t, owner, alice.userId, 'requester', 'workspace', workspace);
    await assign(t, owner, alice.userId, 'iam-rotator', 'workspace', workspace);
    await assign(t, owner, bob.userId, 'approver', 'tenant', tenantId);

    const enroll = await request(t.http).post('/api/v1/agents/enrollment-tokens').set(auth(owner.token)).send({ workspace_id: workspace });
    agent = new AgentProcess(['--url', base, '--config', path.join(dir, 'config.json'), '--wait', '2', '--heartbeat', '2', '--name', 'aws-runner', '--cluster', 'aws-prod'], {
      COUNTERSIGN_ENROLL_TOKEN: enroll.body.token,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const agents = await request(t.http).get('/api/v1/agents').set(auth(owner.token));
      const online = (agents.body.data as { status: string; capabilities: string[] }[]).find((a) => a.status === 'online' && a.capabilities.includes('aws-iam'));
      if (online) break;
      if (Date.now() > deadline || !agent.running) throw new Error(`agent not online:\n${agent.stdout}\n${agent.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    if (agent?.running) await agent.stop();
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the plugin permission, refuses a bad target naming iam_user', async () => {
    const catalog = await call(request(t.http).get('/api/v1/permissions').set(auth(alice.token)));
    expect(catalog.body).toContainEqual(expect.objectContaining({ key: 'aws.iam.rotate', source: 'plugin:aws-iam' }));
    const bad = await call(request(t.http).post('/api/v1/requests').set(auth(alice.token)).send({ type: TYPE, title: 'rotate', reason: 'key leaked', workspace_id: workspace, target: { user: 'x' } }));
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('INVALID_TARGET');
    expect(JSON.stringify(bad.body.error.details)).toContain('iam_user');
  });

  it('executes the approved change through the script, rolls it back through the restore script', async () => {
    const id = await createApproved(workspace, { iam_user: 'deploy-bot' });
    const done = await untilStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'rotated-target.json'), 'utf8'))).toEqual({ iam_user: 'deploy-bot' });
    expect(fs.readFileSync(path.join(dir, 'secret.sha256'), 'utf8').trim()).toBe(createHash('sha256').update(SECRET).digest('hex'));
    const execute = (done.jobs as { purpose: string; status: string; result: Record<string, unknown> }[]).find((j) => j.purpose === 'execute')!;
    expect(execute.status).toBe('succeeded');
    expect(execute.result).toMatchObject({ exit_code: 0, result: { new_access_key_id: 'AKIANEW' } });
    expect(String(execute.result.output)).toContain('with ***'); // the agent scrubbed the setting from the output

    const rolling = await call(request(t.http).post(`/api/v1/requests/${id}/rollback`).set(auth(alice.token)).send({ reason: 'the new key broke the deploy' }));
    expect(rolling.status).toBe(200);
    expect(rolling.body.status).toBe('rolling_back');
    const rolledBack = await untilStatus(id, ['rolled_back', 'failed']);
    expect(rolledBack.status).toBe('rolled_back');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'restored-target.json'), 'utf8'))).toEqual({ iam_user: 'deploy-bot' });
    expect(fs.readFileSync(path.join(dir, 'restored-from.json'), 'utf8')).toContain('AKIANEW');
    expect(rolledBack.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['request.completed', 'request.rollback_started', 'request.rolled_back']));
  });

  it('a failing script fails the request with its message', async () => {
    const id = await createApproved(workspace, { iam_user: 'fail-me' });
    const failed = await untilStatus(id, ['completed', 'failed']);
    expect(failed.status).toBe('failed');
    const job = (failed.jobs as { status: string; error: string }[])[0];
    expect(job.status).toBe('failed');
    expect(job.error).toContain('IAM refused: user fail-me is locked');
  });

  it('the write-only setting appears in no response, log line, agent output, audit payload or table', async () => {
    await call(request(t.http).get('/api/v1/plugins').set(auth(owner.token)));
    await call(request(t.http).get('/api/v1/jobs?limit=200').set(auth(owner.token)));
    const c = await t.db.client();
    let dump = '';
    try {
      const tables = (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r: { tablename: string }) => r.tablename);
      for (const table of tables) dump += JSON.stringify((await c.query(`SELECT * FROM "${table}"`)).rows);
    } finally {
      await c.end();
    }
    const places = { responses: seen.join('\n'), appLog: t.logs.text, agentOutput: agent.stdout + agent.stderr, database: dump };
    for (const [where, text] of Object.entries(places)) {
      expect({ where, leaks: text.includes(SECRET) || text.includes(Buffer.from(SECRET).toString('base64')) }).toEqual({ where, leaks: false });
    }
    expect(dump).toContain('request.rolled_back'); // the audit trail is there, without the value
  });
});
