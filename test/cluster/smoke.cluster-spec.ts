import * as fs from 'node:fs';
import * as path from 'node:path';
import { Api, setupTenant, Tenant } from './harness/api';
import { Cluster } from './harness/cluster';
import { nodeBin, nodeVersion } from './harness/nodes';
import { until } from './harness/processes';
import { report } from './harness/summary';

const SECRET_VALUE = 'smoke value 42';

/**
 * The short cluster check .ci/run repeats on another Node LTS (CLUSTER_NODE_BIN, issue 13 §7): two replicas start on
 * that Node (their native dependencies load: bcrypt hashes the passwords, the embedded PostgreSQL runs under its
 * supervisor), the README walk-through runs through the proxy up to a revealed value, and a replica killed with -9
 * comes back and serves.
 */
describe('cluster smoke', () => {
  let cluster: Cluster;
  let api: Api;
  let t: Tenant;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'smoke', replicas: 2, env: { RATE_LIMIT_AUTH: '100000', RATE_LIMIT_DEFAULT: '1000000', RATE_LIMIT_AGENT: '1000000' } });
    api = new Api(cluster.url);
  });

  afterAll(async () => {
    if (!cluster) return;
    const { orphans } = await cluster.dispose();
    figures.requests_sent = api?.stats.sent;
    figures.replica_5xx = api?.stats.appServerErrors.length;
    figures.orphans = orphans.length;
    report(cluster, 'smoke', figures);
    expect(orphans).toEqual([]);
  });

  it('runs every replica on the chosen Node binary', () => {
    const expected = fs.realpathSync(nodeBin());
    const running = cluster.replicas.map((r) => fs.realpathSync(`/proc/${r.pid}/exe`));
    figures.node_bin = expected;
    figures.node_version = nodeVersion();
    expect(running).toEqual(cluster.replicas.map(() => expected));
  });

  it('walks through setup, a read request approved, executed by an agent and revealed once', async () => {
    t = await setupTenant(api, cluster.secrets.SETUP_TOKEN, 'smoke');
    const requester = await t.addUser('requester@smoke.example', 'requester', 'workspace');
    const approver = await t.addUser('approver@smoke.example', 'approver', 'tenant');
    const secretsDir = path.join(cluster.tempDir, 'secrets');
    fs.mkdirSync(path.join(secretsDir, 'app'), { recursive: true });
    fs.writeFileSync(path.join(secretsDir, 'app', 'db-password'), SECRET_VALUE, { mode: 0o600 });
    const agent = cluster.addAgent('agent-0', await t.enrollmentToken(), secretsDir);
    agent.start();
    await agent.enrolled();
    await api.must(201, 'POST', '/api/v1/jobs', { token: t.owner, body: { type: 'discovery.run', capability: 'file', workspace_id: t.workspaceId } });
    const secret = await until('secret discovered', 60_000, async () => (await api.call('GET', '/api/v1/secrets?ref_prefix=app/&limit=10', { token: t.owner })).json?.data?.[0], 300);

    const created = await api.must(201, 'POST', '/api/v1/requests/read', { token: requester.token, body: { secret_id: secret.id, reason: 'smoke' } });
    await api.must(200, 'POST', `/api/v1/requests/${created.json.id}/approve`, { token: approver.token, body: { comment: 'ok' } });
    await until('request completed', 60_000, async () => (await api.call('GET', `/api/v1/requests/${created.json.id}`, { token: requester.token })).json?.status === 'completed', 250);
    const wraps = (await api.must(200, 'GET', `/api/v1/requests/${created.json.id}/wraps`, { token: requester.token })).json.data as { id: string }[];
    expect(wraps).toHaveLength(1);
    const revealed = await api.must(200, 'GET', `/api/v1/requests/${created.json.id}/wraps/${wraps[0].id}`, { token: requester.token });
    expect(revealed.json.value).toBe(SECRET_VALUE);
    expect((await api.call('GET', `/api/v1/requests/${created.json.id}/wraps/${wraps[0].id}`, { token: requester.token })).status).toBe(410);
    expect(api.stats.appServerErrors).toEqual([]);
  });

  it('serves on after kill -9 of a replica, and the restarted one serves the same sessions', async () => {
    const [victim, survivor] = cluster.replicas;
    const pid = victim.pid;
    await victim.kill();
    // Reads still answer through the proxy (the survivor takes them) while the victim is down.
    for (let i = 0; i < 4; i++) await api.must(200, 'GET', '/api/v1/requests?limit=5', { token: t.owner });
    const started = Date.now();
    await cluster.restartReplica(victim);
    figures.restart_seconds = Number(((Date.now() - started) / 1000).toFixed(1));
    expect(victim.pid).not.toBe(pid);
    expect(fs.realpathSync(`/proc/${victim.pid}/exe`)).toBe(fs.realpathSync(nodeBin()));
    const pinned = await api.must(200, 'GET', '/api/v1/requests?limit=5', { token: t.owner, replica: victim.name });
    expect(pinned.replica).toBe(victim.name);
    const workspace = await api.must(201, 'POST', '/api/v1/workspaces', { token: t.owner, replica: victim.name, body: { slug: 'after-restart', display_name: 'After restart', capabilities: ['file'] } });
    expect((await api.must(200, 'GET', `/api/v1/workspaces/${workspace.json.id}`, { token: t.owner, replica: survivor.name })).json.slug).toBe('after-restart');
    expect(api.stats.appServerErrors).toEqual([]);
  });
});
