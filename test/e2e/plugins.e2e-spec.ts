import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { assign, auth, createMember, createTenant, Session, setupPlatform } from '../helpers/identity';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

describe('plugins: catalog, manifests, install, settings, jobs (e2e)', () => {
  let t: TestApp;
  let owner: Session;
  let tenantId: string;
  let workspace: string;
  let other: Session;
  const as = () => auth(owner.token);

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000', RATE_LIMIT_AGENT: '100000' } });
    const admin = await setupPlatform(t);
    ({ owner, tenantId } = await createTenant(t, admin, 'plug'));
    other = (await createTenant(t, admin, 'plug-other')).owner;
    workspace = (await request(t.http).post('/api/v1/workspaces').set(as()).send({ slug: 'cloud', display_name: 'Cloud' })).body.id;
  });
  afterAll(() => t.close());

  it('the catalog lists kubernetes-secrets, aws-iam (as in SPEC §7) and argocd', async () => {
    const res = await request(t.http).get('/api/v1/plugins/catalog').set(as());
    expect(res.status).toBe(200);
    expect(res.body.map((m: { id: string }) => m.id)).toEqual(['kubernetes-secrets', 'aws-iam', 'argocd']);
    const aws = res.body.find((m: { id: string }) => m.id === 'aws-iam');
    expect(aws).toMatchObject({
      capability: 'aws-iam',
      permissions: [{ key: 'aws.iam.rotate' }],
      request_types: [{ key: 'aws.rotate_iam_access_key', required_permission: 'aws.iam.rotate', rollback: true, target_schema: { required: ['iam_user'] } }],
      settings_schema: { properties: { region: { type: 'string' }, secret_access_key: { type: 'string', writeOnly: true } } },
    });
    const argo = res.body.find((m: { id: string }) => m.id === 'argocd');
    expect(argo.request_types[0]).toMatchObject({ key: 'argocd.sync_application', target_schema: { required: ['application'], properties: { application: {}, revision: {} } } });
    expect(argo.job_types).toEqual([expect.objectContaining({ key: 'gitops.observe' })]);
  });

  it('validate lists the paths of a custom manifest with a bad target_schema; a core clash is listed too', async () => {
    const manifest = {
      id: 'acme-deploy',
      name: 'Acme',
      version: '0.1.0',
      capability: 'acme',
      permissions: [{ key: 'acme.deploy', description: 'deploy' }],
      request_types: [{ key: 'acme.deploy_service', description: 'deploy', required_permission: 'acme.deploy', target_schema: { type: 'object', properties: { service: { type: 'strnig' } } } }],
    };
    const bad = await request(t.http).post('/api/v1/plugins/validate').set(as()).send({ manifest });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors).toEqual([{ path: 'request_types[0].target_schema', message: expect.stringContaining('does not compile') }]);
    const worse = await request(t.http).post('/api/v1/plugins/validate').set(as()).send({ manifest: { ...manifest, id: 'Bad Id', version: 'x', request_types: [{ key: 'nope' }] } });
    expect(worse.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['id', 'version', 'request_types[0].key', 'request_types[0].description']));
    const good = await request(t.http).post('/api/v1/plugins/validate').set(as()).send({ manifest: { ...manifest, request_types: [{ ...manifest.request_types[0], target_schema: { type: 'object' } }] } });
    expect(good.body).toEqual({ valid: true, errors: [] });
    const clash = await request(t.http).post('/api/v1/plugins/validate').set(as()).send({ manifest: { ...manifest, id: 'request-extras', permissions: [{ key: 'request.create', description: 'mine' }], request_types: [] } });
    expect(clash.body).toEqual({ valid: false, errors: [{ path: 'permissions[0].key', message: 'clashes with core' }] });

    const installBad = await request(t.http).post('/api/v1/plugins').set(as()).send({ manifest });
    expect(installBad.status).toBe(422);
    expect(installBad.body.error).toMatchObject({ code: 'PLUGIN_MANIFEST_INVALID', details: [{ field: 'manifest.request_types[0].target_schema' }] });
  });

  it('a manifest whose permission key clashes with a core one → 409 CONFLICT; so does one clashing with an installed plugin', async () => {
    const res = await request(t.http)
      .post('/api/v1/plugins')
      .set(as())
      .send({ manifest: { id: 'request-extras', name: 'x', version: '1.0.0', capability: 'x', permissions: [{ key: 'request.create', description: 'mine' }] } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'CONFLICT', details: [{ key: 'request.create', clashes_with: 'core' }] });
    const first = await request(t.http).post('/api/v1/plugins').set(as()).send({ manifest: { id: 'shared-a', name: 'a', version: '1.0.0', capability: 'a', permissions: [{ key: 'shared.run', description: 'run' }] } });
    expect(first.status).toBe(201);
    const second = await request(t.http).post('/api/v1/plugins').set(as()).send({ manifest: { id: 'shared-b', name: 'b', version: '1.0.0', capability: 'b', permissions: [{ key: 'shared.run', description: 'run' }] } });
    expect(second.status).toBe(409);
    expect(second.body.error.details).toEqual([{ key: 'shared.run', clashes_with: 'plugin:shared-a' }]);
    expect((await request(t.http).delete(`/api/v1/plugins/${first.body.id}`).set(as())).status).toBe(204);
    expect((await request(t.http).get(`/api/v1/plugins/${first.body.id}`).set(as())).status).toBe(404);
  });

  it('install aws-iam with a write-only secret: never returned, logged or audited; settings validated; the agent gets it at claim only', async () => {
    expect((await request(t.http).post('/api/v1/plugins').set(as()).send({ catalog_id: 'aws-iam', settings: { region: 5 } })).body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'settings.region', issue: 'must be string' }] });
    expect((await request(t.http).post('/api/v1/plugins').set(as()).send({ catalog_id: 'nope' })).body.error.details[0].field).toBe('catalog_id');

    const installed = await request(t.http).post('/api/v1/plugins').set(as()).set('Idempotency-Key', 'install-aws-1').send({ catalog_id: 'aws-iam', settings: { region: 'eu-west-1', secret_access_key: SECRET } });
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({ id: expect.stringMatching(/^plg_/), manifest_id: 'aws-iam', source: 'catalog', enabled: true, capability: 'aws-iam', settings: { region: 'eu-west-1', secret_access_key: '***' } });
    const replay = await request(t.http).post('/api/v1/plugins').set(as()).set('Idempotency-Key', 'install-aws-1').send({ catalog_id: 'aws-iam', settings: { region: 'eu-west-1', secret_access_key: SECRET } });
    expect(replay.headers['x-idempotency-replayed']).toBe('true');
    expect(replay.body.id).toBe(installed.body.id);
    expect((await request(t.http).post('/api/v1/plugins').set(as()).send({ catalog_id: 'aws-iam' })).status).toBe(409);
    const id = installed.body.id;

    const listed = await request(t.http).get('/api/v1/plugins').set(as());
    expect(listed.body.data.find((p: { id: string }) => p.id === id).settings).toEqual({ region: 'eu-west-1', secret_access_key: '***' });
    const patched = await request(t.http).patch(`/api/v1/plugins/${id}`).set(as()).send({ settings: { region: 'us-east-1', secret_access_key: '***' } });
    expect(patched.status).toBe(200);
    expect(patched.body.settings).toEqual({ region: 'us-east-1', secret_access_key: '***' });

    // The agent with the capability gets the settings, decrypted, in the claim of the plugin's test job — and only there.
    const agent = (await request(t.http).post('/api/v1/agents').set(as()).send({ name: 'aws-agent', workspace_id: workspace, cluster_name: 'aws', capabilities: ['aws-iam'] })).body;
    const queued = await request(t.http).post(`/api/v1/plugins/${id}/test`).set(as()).send({ workspace_id: workspace });
    expect(queued.status).toBe(202);
    expect(queued.body.job_id).toMatch(/^job_/);
    const claim = await request(t.http).post(`/api/v1/agents/${agent.agent.id}/jobs/claim`).set('X-Agent-Secret', agent.agent_secret).send({});
    expect(claim.body).toMatchObject({ id: queued.body.job_id, type: 'plugin.test', payload: { plugin_id: id, settings: { region: 'us-east-1', secret_access_key: SECRET } } });
    const job = await request(t.http).get(`/api/v1/jobs/${queued.body.job_id}`).set(as());
    expect(job.body.payload).toEqual({ plugin_id: id });
    const discover = await request(t.http).post(`/api/v1/plugins/${id}/discover`).set(as()).send({ workspace_id: workspace });
    expect(discover.status).toBe(202);
    expect((await request(t.http).post(`/api/v1/plugins/${id}/discover`).set(as()).send({ workspace_id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })).status).toBe(404);

    const c = await t.db.client();
    let text = '';
    for (const table of ['plugins', 'audit_events', 'jobs', 'idempotency_keys']) text += JSON.stringify((await c.query(`SELECT * FROM ${table}`)).rows);
    const events = (await c.query(`SELECT action FROM audit_events WHERE resource_id = $1 ORDER BY id`, [id])).rows.map((r: { action: string }) => r.action);
    await c.end();
    expect(text).not.toContain(SECRET);
    expect(events).toEqual(expect.arrayContaining(['plugin.installed', 'plugin.updated', 'plugin.test_requested', 'plugin.discovery_requested']));
    expect(t.logs.text).not.toContain(SECRET);
    for (const body of [installed.body, replay.body, listed.body, patched.body, job.body]) expect(JSON.stringify(body)).not.toContain(SECRET);
  });

  it('plugins are tenant-level: another tenant gets 404, a workspace-scope grant is not enough, and no plugin.read is 403', async () => {
    const plugin = (await request(t.http).get('/api/v1/plugins').set(as())).body.data[0];
    expect((await request(t.http).get(`/api/v1/plugins/${plugin.id}`).set(auth(other.token))).status).toBe(404);
    expect((await request(t.http).patch(`/api/v1/plugins/${plugin.id}`).set(auth(other.token)).send({ enabled: false })).status).toBe(404);
    expect((await request(t.http).get('/api/v1/plugins').set(auth(other.token))).body.data).toEqual([]);
    const member = await createMember(t, owner, 'ws-admin@plug.example');
    expect((await request(t.http).get('/api/v1/plugins').set(auth(member.token))).status).toBe(403);
    await assign(t, owner, member.userId, 'admin', 'workspace', workspace);
    const denied = await request(t.http).get('/api/v1/plugins').set(auth(member.token));
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('PERMISSION_DENIED');
    expect(tenantId).toBeTruthy();
  });
});
