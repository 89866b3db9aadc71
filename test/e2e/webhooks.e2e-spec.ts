import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createCipheriv, randomBytes } from 'node:crypto';
import { TransactionHost } from '@nestjs-cls/transactional';
import request from 'supertest';
import { asTenantId } from '../../src/common/db/tenant-id';
import { MetricsService } from '../../src/common/observability/metrics.service';
import { WebhooksService } from '../../src/modules/webhooks/webhooks.service';
import { assign, auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/** The verification helper of docs/api.md "Webhooks" (same logic, line for line). */
function verifyCountersign(secret: string, header: string, body: string, toleranceSec = 300): boolean {
  const parts = header.split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!t || Math.abs(Date.now() / 1000 - t) > toleranceSec) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.filter(([k]) => k === 'v1').some(([, v]) => { const got = Buffer.from(v, 'hex'); return got.length === expected.length && timingSafeEqual(got, expected); });
}

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A receiver on loopback: `/flaky` answers 500 twice then 200, `/down` always 503, `/redirect` 302 to `/landing`,
 * the rest 200.
 */
async function startReceiver(): Promise<{ server: Server; base: string; got: Received[] }> {
  const got: Received[] = [];
  let flaky = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/flaky' && ++flaky <= 2) return res.writeHead(500).end('boom');
      if (req.url === '/down') return res.writeHead(503).end('down');
      if (req.url === '/redirect') return res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/landing` }).end();
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_DISPATCH_INTERVAL_MS: '100',
  WEBHOOK_RETRY_BASE_MS: '200',
  PUBLIC_URL: 'https://countersign.example',
  RATE_LIMIT_DEFAULT: '100000',
  RATE_LIMIT_AGENT: '100000',
};

describe('webhooks: signed, transactional, retried deliveries (e2e)', () => {
  let t: TestApp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let owner: Session;
  let alice: Session;
  let bob: Session;
  let tenantId: string;
  let agent: { id: string; secret: string };
  let secretId: string;
  let hook: { id: string; signing_secret: string };
  const as = () => auth(owner.token);

  beforeAll(async () => {
    rx = await startReceiver();
    t = await createTestApp({ env: ENV });
    ({ owner, tenantId } = await createTenant(t, await setupPlatform(t), 'hooks'));
    const workspace = (await request(t.http).post('/api/v1/workspaces').set(as()).send({ slug: 'pay', display_name: 'Pay' })).body.id;
    const prod = (await request(t.http).post(`/api/v1/workspaces/${workspace}/environments`).set(as()).send({ name: 'prod', protected: true })).body.id;
    const minted = await request(t.http).post('/api/v1/agents').set(as()).send({ name: 'a1', workspace_id: workspace, environment_id: prod, cluster_name: 'c1', capabilities: ['file'] });
    agent = { id: minted.body.agent.id, secret: minted.body.agent_secret };
    await request(t.http).post(`/api/v1/agents/${agent.id}/secrets/bulk`).set('X-Agent-Secret', agent.secret).send({ secrets: [{ cluster_name: 'c1', provider: 'file', ref: 'prod/db' }] }).expect(200);
    secretId = (await request(t.http).get('/api/v1/secrets').set(as())).body.data[0].id;
    alice = await createMember(t, owner, 'alice@hooks.example');
    bob = await createMember(t, owner, 'bob@hooks.example');
    await assign(t, owner, alice.userId, 'requester', 'tenant', tenantId);
    await assign(t, owner, bob.userId, 'approver', 'tenant', tenantId);
    const created = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/hook`, events: ['request.*'], description: 'all requests' });
    expect(created.status).toBe(201);
    hook = created.body;
  }, 120_000);
  afterAll(async () => {
    await t.close();
    await new Promise((r) => rx.server.close(r));
  });

  const agentCall = (method: 'get' | 'post', path: string) => request(t.http)[method](`/api/v1/agents/${agent.id}${path}`).set('X-Agent-Secret', agent.secret);
  const forRequest = (id: string) => rx.got.filter((g) => g.path === '/hook' && (JSON.parse(g.body) as { data?: { request_id?: string } }).data?.request_id === id);

  it('shows the signing secret once, stores it encrypted, and never returns it again', async () => {
    expect(hook.signing_secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(hook.id).toMatch(/^whk_/);
    const got = await request(t.http).get(`/api/v1/webhooks/${hook.id}`).set(as());
    expect(got.body).toMatchObject({ id: hook.id, url: `${rx.base}/hook`, events: ['request.*'], format: 'json', enabled: true });
    expect(JSON.stringify(got.body)).not.toContain(hook.signing_secret);
    expect(JSON.stringify((await request(t.http).get('/api/v1/webhooks').set(as())).body)).not.toContain('whsec_');
    const c = await t.db.client();
    const row = await c.query(`SELECT secret::text AS s FROM webhooks WHERE id = $1`, [hook.id]);
    await c.end();
    expect(row.rows[0].s).not.toContain(hook.signing_secret);
    expect(row.rows[0].s).toContain('wrapped_dek');
  });

  it('submitted, approval_needed (listing the approvers), approved and completed arrive in order, signed', async () => {
    const created = await request(t.http).post('/api/v1/requests/read').set(auth(alice.token)).send({ secret_id: secretId, reason: 'debug the payment outage' });
    expect(created.status).toBe(201);
    await request(t.http).post(`/api/v1/requests/${created.body.id}/approve`).set(auth(bob.token)).send({}).expect(200);
    const job = await agentCall('post', '/jobs/claim').send({});
    const dek = await agentCall('post', '/dek');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(dek.body.dek, 'base64'), iv);
    const ciphertext = Buffer.concat([cipher.update('value', 'utf8'), cipher.final()]);
    await agentCall('post', '/wraps').send({ job_id: job.body.id, dek_id: dek.body.dek_id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') }).expect(201);
    await agentCall('post', `/jobs/${job.body.id}/complete`).send({ lease_token: job.body.lease_token, status: 'succeeded' }).expect(204);

    const got = await waitFor('four request events', () => forRequest(created.body.id).length >= 4 && forRequest(created.body.id));
    expect(got.map((g) => g.headers['x-countersign-event'])).toEqual(['request.submitted', 'request.approval_needed', 'request.approved', 'request.completed']);
    for (const g of got) {
      expect(verifyCountersign(hook.signing_secret, String(g.headers['x-countersign-signature']), g.body)).toBe(true);
      expect(verifyCountersign('whsec_wrong', String(g.headers['x-countersign-signature']), g.body)).toBe(false);
      const payload = JSON.parse(g.body);
      expect(payload).toMatchObject({ id: expect.stringMatching(/^evt_/), type: g.headers['x-countersign-event'], tenant_id: tenantId, created_at: expect.any(String) });
      expect(g.headers['x-countersign-delivery']).toMatch(/^dlv_/);
    }
    const needed = JSON.parse(got[1].body).data;
    expect(needed).toMatchObject({ request_id: created.body.id, stage: 0, remaining_approvals: 1, reason: 'debug the payment outage' });
    const emails = needed.eligible_approvers.map((a: { email: string }) => a.email);
    expect(emails).toContain('bob@hooks.example');
    expect(emails).not.toContain('alice@hooks.example');

    const deliveries = await request(t.http).get(`/api/v1/webhooks/${hook.id}/deliveries?limit=200`).set(as());
    const mine = deliveries.body.data.filter((d: { id: string }) => got.some((g) => g.headers['x-countersign-delivery'] === d.id));
    expect(mine).toHaveLength(4);
    for (const d of mine) expect(d).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null });
  });

  it('a break-glass arrives as request.break_glass, marked urgent', async () => {
    const created = await request(t.http).post('/api/v1/requests/read').set(auth(alice.token)).send({ secret_id: secretId, reason: 'incident' });
    await request(t.http).post(`/api/v1/requests/${created.body.id}/break-glass`).set(as()).send({ reason: 'sev-1: payments down, on-call needs the db password' }).expect(200);
    const got = await waitFor('break-glass event', () => forRequest(created.body.id).find((g) => g.headers['x-countersign-event'] === 'request.break_glass'));
    const payload = JSON.parse(got.body);
    expect(payload).toMatchObject({ type: 'request.break_glass', urgent: true, data: { request_id: created.body.id, break_glass: true, break_glass_reason: 'sev-1: payments down, on-call needs the db password' } });
    expect(verifyCountersign(hook.signing_secret, String(got.headers['x-countersign-signature']), got.body)).toBe(true);
  });

  it('500 twice then 200: delivered on the third attempt, visible in the deliveries log', async () => {
    const flaky = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/flaky`, events: ['audit.chain_broken'] });
    const test = await request(t.http).post(`/api/v1/webhooks/${flaky.body.id}/test`).set(as()).send({});
    expect(test.status).toBe(202);
    expect(test.body.delivery_id).toMatch(/^dlv_/);
    const delivered = await waitFor('the third attempt', async () => {
      const list = await request(t.http).get(`/api/v1/webhooks/${flaky.body.id}/deliveries`).set(as());
      const d = list.body.data.find((x: { id: string }) => x.id === test.body.delivery_id);
      return d?.status === 'delivered' && d;
    });
    expect(delivered).toMatchObject({ event: 'ping', status: 'delivered', attempts: 3, last_status_code: 200 });
    const hits = rx.got.filter((g) => g.path === '/flaky');
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.headers['x-countersign-delivery']))).toEqual(new Set([test.body.delivery_id]));
  });

  it('a redirect is a failed attempt and is not followed', async () => {
    const redirecting = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/redirect`, events: ['audit.chain_broken'] });
    const test = await request(t.http).post(`/api/v1/webhooks/${redirecting.body.id}/test`).set(as()).send({});
    const d = await waitFor('the redirect attempt', async () => {
      const list = await request(t.http).get(`/api/v1/webhooks/${redirecting.body.id}/deliveries`).set(as());
      const x = list.body.data.find((y: { id: string }) => y.id === test.body.delivery_id);
      return x?.attempts >= 1 && x;
    });
    expect(d).toMatchObject({ status: 'pending', last_status_code: 302, last_error: expect.stringContaining('redirect') });
    expect(rx.got.filter((g) => g.path === '/landing')).toHaveLength(0);
    await request(t.http).delete(`/api/v1/webhooks/${redirecting.body.id}`).set(as()).expect(204);
  });

  it('after a rotation both secrets sign (two v1=), and the new secret is shown once', async () => {
    const rotated = await request(t.http).post(`/api/v1/webhooks/${hook.id}/rotate-secret`).set(as()).send({});
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).toMatch(/^whsec_/);
    expect(rotated.body.signing_secret).not.toBe(hook.signing_secret);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();
    const test = await request(t.http).post(`/api/v1/webhooks/${hook.id}/test`).set(as()).send({});
    const got = await waitFor('the ping', () => rx.got.find((g) => g.headers['x-countersign-delivery'] === test.body.delivery_id));
    const header = String(got.headers['x-countersign-signature']);
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verifyCountersign(rotated.body.signing_secret, header, got.body)).toBe(true);
    expect(verifyCountersign(hook.signing_secret, header, got.body)).toBe(true);
    expect(JSON.stringify((await request(t.http).get(`/api/v1/webhooks/${hook.id}`).set(as())).body)).not.toContain('whsec_');
  });

  it('an event whose transaction rolls back produces no delivery; a committed one does', async () => {
    const webhooks = t.app.get(WebhooksService);
    const txHost = t.app.get(TransactionHost);
    const marker = `rollback-${Date.now()}`;
    await expect(
      txHost.withTransaction(async () => {
        await webhooks.emit(asTenantId(tenantId), 'request.submitted', { marker });
        throw new Error('the change fails after the event was recorded');
      }),
    ).rejects.toThrow('the change fails');
    const count = async (m: string) => {
      const c = await t.db.client();
      const r = await c.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND payload->'data'->>'marker' = $2`, [tenantId, m]);
      await c.end();
      return r.rows[0].n as number;
    };
    expect(await count(marker)).toBe(0);
    await txHost.withTransaction(() => webhooks.emit(asTenantId(tenantId), 'request.submitted', { marker: `${marker}-committed` }));
    expect(await count(`${marker}-committed`)).toBe(1);
  });

  it('a disabled endpoint receives nothing; a redeliver sends a delivery again (202)', async () => {
    const ping = await request(t.http).post(`/api/v1/webhooks/${hook.id}/test`).set(as()).send({});
    await waitFor('the ping', () => rx.got.find((g) => g.headers['x-countersign-delivery'] === ping.body.delivery_id));
    const again = await request(t.http).post(`/api/v1/webhooks/${hook.id}/deliveries/${ping.body.delivery_id}/redeliver`).set(as()).send({});
    expect(again.status).toBe(202);
    await waitFor('the redelivery', () => rx.got.filter((g) => g.headers['x-countersign-delivery'] === ping.body.delivery_id).length === 2);
    expect((await request(t.http).patch(`/api/v1/webhooks/${hook.id}`).set(as()).send({ enabled: false })).body.enabled).toBe(false);
    const before = rx.got.length;
    const created = await request(t.http).post('/api/v1/requests/read').set(auth(alice.token)).send({ secret_id: secretId, reason: 'while disabled' });
    expect(created.status).toBe(201);
    const c = await t.db.client();
    const rows = await c.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE payload->'data'->>'request_id' = $1`, [created.body.id]);
    await c.end();
    expect(rows.rows[0].n).toBe(0);
    expect(rx.got.filter((g) => g.path === '/hook').length).toBe(rx.got.slice(0, before).filter((g) => g.path === '/hook').length);
    await request(t.http).patch(`/api/v1/webhooks/${hook.id}`).set(as()).send({ enabled: true }).expect(200);
  });

  it('format "slack": a Slack message with title, requester, reason, what is needed and a PUBLIC_URL link', async () => {
    const slack = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/slack`, events: ['request.approval_needed'], format: 'slack' });
    expect(slack.body.format).toBe('slack');
    const created = await request(t.http).post('/api/v1/requests/read').set(auth(alice.token)).send({ secret_id: secretId, reason: 'quarterly audit sample' });
    const got = await waitFor('the slack message', () => rx.got.find((g) => g.path === '/slack' && g.body.includes(created.body.id)));
    const msg = JSON.parse(got.body);
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { text: expect.stringContaining('Approval needed') } });
    expect(msg.text).toContain('*Reason:* quarterly audit sample');
    expect(msg.text).toContain(`*Requester:* ${alice.userId}`);
    expect(msg.text).toContain('bob@hooks.example');
    expect(msg.text).toContain(`<https://countersign.example/api/v1/requests/${created.body.id}|Open in Countersign>`);
    expect(verifyCountersign(slack.body.signing_secret, String(got.headers['x-countersign-signature']), got.body)).toBe(true);
    await request(t.http).delete(`/api/v1/webhooks/${slack.body.id}`).set(as()).expect(204);
  });

  it('a create retried with the same Idempotency-Key gets 409 naming the webhook, never a second secret', async () => {
    const key = `whk-create-${Date.now()}`;
    const body = { url: `${rx.base}/idem`, events: ['audit.chain_broken'] };
    const first = await request(t.http).post('/api/v1/webhooks').set(as()).set('Idempotency-Key', key).send(body);
    expect(first.status).toBe(201);
    const again = await request(t.http).post('/api/v1/webhooks').set(as()).set('Idempotency-Key', key).send(body);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('IDEMPOTENCY_REPLAY_UNAVAILABLE');
    expect(JSON.stringify(again.body)).toContain(first.body.id);
    expect(JSON.stringify(again.body)).not.toContain('whsec_');
    const listed = await request(t.http).get('/api/v1/webhooks?limit=200').set(as());
    expect(listed.body.data.filter((w: { url: string }) => w.url === body.url)).toHaveLength(1);
  });

  it('an endpoint that fails 50 deliveries in a row is disabled, audited, and receives nothing more', async () => {
    const down = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/down`, events: ['audit.chain_broken'] });
    for (let i = 0; i < 50; i++) await request(t.http).post(`/api/v1/webhooks/${down.body.id}/test`).set(as()).send({}).expect(202);
    const disabled = await waitFor('the endpoint disabled', async () => {
      const w = await request(t.http).get(`/api/v1/webhooks/${down.body.id}`).set(as());
      return w.body.enabled === false && w.body;
    });
    expect(Number(/(\d+) consecutive failed deliveries/.exec(disabled.disabled_reason)?.[1])).toBeGreaterThanOrEqual(50);
    const audit = await request(t.http).get(`/api/v1/audit-events?action=webhook.auto_disabled&resource_id=${down.body.id}`).set(as());
    expect(audit.body.data).toHaveLength(1);
    const hits = rx.got.filter((g) => g.path === '/down').length;
    await request(t.http).post(`/api/v1/webhooks/${down.body.id}/test`).set(as()).send({}).expect(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.got.filter((g) => g.path === '/down').length).toBe(hits);
  });

  it('an agent whose heartbeat lapsed is announced once as agent.offline', async () => {
    const offline = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/offline`, events: ['agent.offline'] });
    const c = await t.db.client();
    await c.query(`UPDATE agents SET last_seen_at = now() - interval '1 hour' WHERE id = $1`, [agent.id]);
    await c.end();
    const got = await waitFor('agent.offline', () => rx.got.find((g) => g.path === '/offline'));
    expect(JSON.parse(got.body)).toMatchObject({ type: 'agent.offline', tenant_id: tenantId, data: { agent_id: agent.id, name: 'a1', cluster_name: 'c1', last_seen_at: expect.any(String) } });
    expect(verifyCountersign(offline.body.signing_secret, String(got.headers['x-countersign-signature']), got.body)).toBe(true);
    // The notifier runs every 5 s: after two more runs it still has announced this lapse once.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(rx.got.filter((g) => g.path === '/offline')).toHaveLength(1);
    await request(t.http).delete(`/api/v1/webhooks/${offline.body.id}`).set(as()).expect(204);
  }, 90_000);

  it('documents the event bodies in OpenAPI, one schema per event family', async () => {
    const doc = (await request(t.http).get('/openapi.json').expect(200)).body;
    const schemas = doc.components.schemas;
    expect(schemas.RequestWebhookEventDto.properties.type.enum).toEqual(expect.arrayContaining(['request.approval_needed', 'request.break_glass', 'request.expired']));
    expect(schemas.RequestEventDataDto.properties.eligible_approvers).toBeDefined();
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['AgentOfflineWebhookEventDto', 'AuditChainBrokenWebhookEventDto', 'PingWebhookEventDto']));
  });

  it('the dispatcher is a background task in /api/v1/health and its lag is a metric', async () => {
    const health = await request(t.http).get('/api/v1/health');
    expect(health.body.background).toEqual(expect.arrayContaining([expect.objectContaining({ task: 'webhook-dispatcher', status: 'ok' })]));
    const metrics = await t.app.get(MetricsService).registry.metrics();
    expect(metrics).toMatch(/countersign_outbox_oldest_seconds \d/);
    expect(metrics).toMatch(/countersign_outbox_depth \d/);
    expect(metrics).toMatch(/countersign_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(/countersign_background_task_runs_total\{task="webhook-dispatcher",outcome="success"\} [1-9]/);
  });

  it('a verification that finds the audit chain broken announces audit.chain_broken, once per break', async () => {
    const chain = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/chain`, events: ['audit.chain_broken'] });
    const verify = () => request(t.http).get('/api/v1/audit-events/verify').set(as());
    const sealed = await waitFor('the chain sealed', async () => {
      const v = await verify();
      return v.body.verified === true && v.body.checked > 0 && v.body;
    });
    expect(sealed.verified).toBe(true);
    const c = await t.db.client();
    const [victim] = (await c.query(`SELECT id FROM audit_events WHERE tenant_id = $1 AND action = 'workspace.created' ORDER BY id LIMIT 1`, [tenantId])).rows;
    await c.query(`SET session_replication_role = replica`);
    await c.query(`UPDATE audit_events SET payload = '{"slug":"tampered"}' WHERE id = $1`, [victim.id]);
    await c.end();
    expect((await verify()).body).toMatchObject({ verified: false, first_invalid_id: victim.id });
    const got = await waitFor('audit.chain_broken', () => rx.got.find((g) => g.path === '/chain'));
    expect(JSON.parse(got.body)).toMatchObject({ type: 'audit.chain_broken', tenant_id: tenantId, data: { first_invalid_id: victim.id, detected_by: 'verify' } });
    expect(verifyCountersign(chain.body.signing_secret, String(got.headers['x-countersign-signature']), got.body)).toBe(true);
    expect((await verify()).body.verified).toBe(false);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.got.filter((g) => g.path === '/chain')).toHaveLength(1);
  });

  // Last: closing a second app in this process closes the transactional adapter the first one shares with it.
  it('two replicas on one database deliver each event exactly once', async () => {
    const t2 = await createTestApp({ db: t.db, env: ENV });
    try {
      const counted = await request(t.http).post('/api/v1/webhooks').set(as()).send({ url: `${rx.base}/count`, events: ['audit.chain_broken'] });
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await request((i % 2 ? t2 : t).http).post(`/api/v1/webhooks/${counted.body.id}/test`).set(as()).send({});
        expect(res.status).toBe(202);
        ids.push(res.body.delivery_id);
      }
      await waitFor('30 deliveries', () => new Set(rx.got.filter((g) => g.path === '/count').map((g) => g.headers['x-countersign-delivery'])).size === 30);
      // Let any duplicate still in flight arrive before counting.
      await new Promise((r) => setTimeout(r, 1000));
      const hits = rx.got.filter((g) => g.path === '/count').map((g) => String(g.headers['x-countersign-delivery']));
      expect(hits.sort()).toEqual([...ids].sort());
    } finally {
      await t2.close();
    }
  }, 120_000);

});

describe('webhooks: SSRF guard without the override (e2e)', () => {
  let t: TestApp;
  let owner: Session;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000' } });
    ({ owner } = await createTenant(t, await setupPlatform(t), 'ssrf'));
  });
  afterAll(() => t.close());

  it.each([
    'http://169.254.169.254/',
    'http://127.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'https://169.254.169.254/latest/meta-data/',
    'https://127.0.0.1/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::1]/',
    'https://10.0.0.8/',
    'https://100.64.0.1/',
    'https://[fd00:ec2::254]/',
    'https://localhost/',
  ])('refuses %s with 400 naming url', async (url) => {
    const res = await request(t.http).post('/api/v1/webhooks').set(auth(owner.token)).send({ url, events: ['request.*'] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'url' })]);
  });

  it('accepts a public https address, and refuses to move it to a private one', async () => {
    const ok = await request(t.http).post('/api/v1/webhooks').set(auth(owner.token)).send({ url: 'https://93.184.216.34/hook', events: ['audit.chain_broken'] });
    expect(ok.status).toBe(201);
    const moved = await request(t.http).patch(`/api/v1/webhooks/${ok.body.id}`).set(auth(owner.token)).send({ url: 'https://192.168.1.10/' });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details[0].field).toBe('url');
  });
});
