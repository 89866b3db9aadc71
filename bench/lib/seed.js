'use strict';
/**
 * The bench world, seeded through the public API (never SQL, except the bulk rows a scenario consumes: queued jobs
 * and the 1M audit events): the platform admin (owner of the default tenant), a requester (alice) and an approver
 * (bob), a workspace with a protected `prod` environment (its default workflow needs one approval by someone other
 * than the requester), an agent there that reported one secret, a second workspace for the job-queue scenario with 16
 * agents, an API key with `request.read_all`, and one pending request (the read target).
 */
const { expectOk, request } = require('./http');

const PASSWORD = 'bench-password-123';
const bearer = (token) => ({ authorization: `Bearer ${token}` });

async function login(port, email) {
  const res = await expectOk(port, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  return { token: res.access_token, userId: res.user.id };
}

async function roleIds(port, token) {
  const res = await expectOk(port, 'GET', '/api/v1/roles?limit=200', { headers: bearer(token) });
  return new Map(res.data.map((r) => [r.name, r.id]));
}

async function seedWorld(port, { agents = 16 } = {}) {
  await expectOk(port, 'POST', '/api/v1/auth/setup', { body: { email: 'admin@bench.example', password: PASSWORD, name: 'Bench Admin' } });
  const admin = await login(port, 'admin@bench.example');
  const me = await expectOk(port, 'GET', '/api/v1/auth/me', { headers: bearer(admin.token) });
  const tenantId = me.tenant.id;
  const as = { headers: bearer(admin.token) };

  for (const name of ['alice', 'bob']) {
    await expectOk(port, 'POST', '/api/v1/users', { ...as, body: { email: `${name}@bench.example`, name, password: PASSWORD } });
  }
  const alice = await login(port, 'alice@bench.example');
  const bob = await login(port, 'bob@bench.example');
  const roles = await roleIds(port, admin.token);
  const assign = (userId, role) => expectOk(port, 'POST', '/api/v1/user-roles', { ...as, body: { user_id: userId, role_id: roles.get(role), scope_type: 'tenant', scope_id: tenantId } });
  await assign(alice.userId, 'requester');
  await assign(bob.userId, 'approver');

  const ws = await expectOk(port, 'POST', '/api/v1/workspaces', { ...as, body: { slug: 'bench', display_name: 'Bench' } });
  const prod = await expectOk(port, 'POST', `/api/v1/workspaces/${ws.id}/environments`, { ...as, body: { name: 'prod', protected: true } });
  const minted = await expectOk(port, 'POST', '/api/v1/agents', { ...as, body: { name: 'bench-prod', workspace_id: ws.id, environment_id: prod.id, cluster_name: 'c1', capabilities: ['file'] } });
  const agent = { id: minted.agent.id, secret: minted.agent_secret };
  await expectOk(port, 'POST', `/api/v1/agents/${agent.id}/secrets/bulk`, { headers: { 'x-agent-secret': agent.secret }, body: { secrets: [{ cluster_name: 'c1', provider: 'file', ref: 'prod/db' }] } });
  const secrets = await expectOk(port, 'GET', '/api/v1/secrets?ref_prefix=prod/db', as);
  const secretId = secrets.data[0].id;

  // The job-queue scenario's own workspace: its queued jobs never mix with the approvals' jobs.
  const queueWs = await expectOk(port, 'POST', '/api/v1/workspaces', { ...as, body: { slug: 'bench-queue', display_name: 'Bench queue' } });
  const workers = [];
  for (let i = 0; i < agents; i++) {
    const m = await expectOk(port, 'POST', '/api/v1/agents', { ...as, body: { name: `worker-${i}`, workspace_id: queueWs.id, cluster_name: 'c1', capabilities: ['bench'] } });
    workers.push({ id: m.agent.id, secret: m.agent_secret });
  }

  // The admin's key with request.read_all: it sees alice's request (keys are minted by holders of apikey.manage).
  const { key: apiKey } = await expectOk(port, 'POST', '/api/v1/api-keys', { ...as, body: { name: 'bench', permissions: ['request.read_all'] } });
  const target = await createRequest(port, alice.token, secretId);
  if (target.status !== 'pending_approval') throw new Error(`seeded request is ${target.status}, expected pending_approval`);

  return { tenantId, admin, alice, bob, apiKey, workspaceId: ws.id, prodId: prod.id, agent, secretId, queueWorkspaceId: queueWs.id, workers, targetRequestId: target.id };
}

/** The create body every create sends (S2, and the pending requests S3 approves). */
const createBody = (secretId) => ({ type: 'secret.read', title: 'bench read', reason: 'load test', secret_id: secretId });

async function createRequest(port, token, secretId, idempotencyKey) {
  return expectOk(port, 'POST', '/api/v1/requests', { headers: { ...bearer(token), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) }, body: createBody(secretId) });
}

/** `n` pending requests created through the API, `concurrency` at a time. */
async function createPending(port, token, secretId, n, concurrency = 8) {
  let left = n;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left > 0) {
      left--;
      const r = await request(port, 'POST', '/api/v1/requests', { headers: bearer(token), body: createBody(secretId) });
      if (r.status !== 201) throw new Error(`create pending → ${r.status} ${r.text.slice(0, 300)}`);
    }
  }));
}

module.exports = { seedWorld, createRequest, createPending, createBody, bearer, PASSWORD };
