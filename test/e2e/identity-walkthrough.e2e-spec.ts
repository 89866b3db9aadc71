import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { ADMIN, auth, login } from '../helpers/identity';

/** The README walk-through, step by step, as a new user would run it with curl. */
describe('identity walk-through (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('setup → login → tenant acme → owner → workspace, environment, custom role, assignment, API key → call with the key', async () => {
    expect((await request(t.http).get('/api/v1/auth/setup-status')).body).toEqual({ setup_required: true });
    const setup = await request(t.http).post('/api/v1/auth/setup').send(ADMIN);
    expect(setup.status).toBe(201);
    expect(setup.body.user).toMatchObject({ email: ADMIN.email, is_platform_admin: true, status: 'active' });
    expect(setup.body.tenant).toMatchObject({ slug: 'default', status: 'active' });
    // No password or hash comes back (the tenant's `password_login` switch is a setting, not a secret).
    expect(JSON.stringify(setup.body)).not.toContain(ADMIN.password);
    expect(JSON.stringify(setup.body)).not.toMatch(/"password(_hash)?"|\$2[aby]\$/);
    expect((await request(t.http).post('/api/v1/auth/setup').send(ADMIN)).body.error.code).toBe('SETUP_ALREADY_COMPLETED');
    expect((await request(t.http).get('/api/v1/auth/setup-status')).body).toEqual({ setup_required: false });

    const adminLogin = await request(t.http).post('/api/v1/auth/login').send({ email: ADMIN.email, password: ADMIN.password });
    expect(adminLogin.status).toBe(200);
    expect(adminLogin.body).toMatchObject({ token_type: 'bearer', expires_in: 3600, user: { email: ADMIN.email } });
    expect(adminLogin.body.refresh_token).toMatch(/^csr_/);
    const admin = adminLogin.body.access_token as string;

    const tenant = await request(t.http).post('/api/v1/tenants').set(auth(admin)).send({ slug: 'acme', display_name: 'Acme Corp', plan: 'team', admin_email: 'alice@acme.example' });
    expect(tenant.status).toBe(201);
    expect(tenant.body).toMatchObject({ slug: 'acme', display_name: 'Acme Corp', plan: 'team', status: 'active' });
    expect(tenant.body.id).toMatch(/^ten_[0-9A-Z]{26}$/);
    expect(tenant.body.admin_invitation_token).toMatch(/^csi_/);
    expect((await request(t.http).post('/api/v1/tenants').set(auth(admin)).send({ slug: 'acme', display_name: 'x', admin_email: 'b@acme.example' })).status).toBe(409);

    const accepted = await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: tenant.body.admin_invitation_token, password: 'alice password 123', name: 'Alice' });
    expect(accepted.status).toBe(200);
    expect((await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: tenant.body.admin_invitation_token, password: 'alice password 123' })).status).toBe(401);

    const alice = await login(t, 'alice@acme.example', 'alice password 123');
    expect(alice.tenantId).toBe(tenant.body.id);
    const me = await request(t.http).get('/api/v1/auth/me').set(auth(alice.token));
    expect(me.body.permissions).toContainEqual(expect.objectContaining({ scope_type: 'tenant', scope_id: tenant.body.id, permissions: expect.arrayContaining(['workspace.manage', 'apikey.manage']) }));

    const ws = await request(t.http).post('/api/v1/workspaces').set(auth(alice.token)).send({ slug: 'payments', display_name: 'Payments', capabilities: ['kubernetes-secrets'] });
    expect(ws.status).toBe(201);
    expect(ws.body.id).toMatch(/^wsp_/);
    const env = await request(t.http).post(`/api/v1/workspaces/${ws.body.id}/environments`).set(auth(alice.token)).send({ name: 'prod', protected: true });
    expect(env.status).toBe(201);
    expect(env.body).toMatchObject({ name: 'prod', protected: true, workspace_id: ws.body.id });

    const role = await request(t.http).post('/api/v1/roles').set(auth(alice.token)).send({ name: 'payments-reader', description: 'Reads payments', permissions: ['workspace.read', 'secret.read_metadata'] });
    expect(role.status).toBe(201);
    expect((await request(t.http).post('/api/v1/roles').set(auth(alice.token)).send({ name: 'bad', permissions: ['no.such'] })).status).toBe(400);

    const bob = await request(t.http).post('/api/v1/users').set(auth(alice.token)).send({ email: 'bob@acme.example', name: 'Bob', password: 'bob password 1234' });
    expect(bob.status).toBe(201);
    const assignment = await request(t.http).post('/api/v1/user-roles').set(auth(alice.token)).send({ user_id: bob.body.id, role_id: role.body.id, scope_type: 'workspace', scope_id: ws.body.id });
    expect(assignment.status).toBe(201);
    const bobSession = await login(t, 'bob@acme.example', 'bob password 1234');
    expect((await request(t.http).get(`/api/v1/workspaces/${ws.body.id}`).set(auth(bobSession.token))).status).toBe(200);
    const bobList = await request(t.http).get('/api/v1/workspaces').set(auth(bobSession.token));
    expect(bobList.body.data.map((w: { id: string }) => w.id)).toEqual([ws.body.id]);

    const key = await request(t.http).post('/api/v1/api-keys').set(auth(alice.token)).send({ name: 'ci', permissions: ['workspace.read'] });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^csk_[A-Za-z0-9_-]{43}$/);
    expect(key.body.prefix).toBe(key.body.key.slice(0, 12));
    const listed = await request(t.http).get('/api/v1/workspaces').set('X-API-Key', key.body.key);
    expect(listed.status).toBe(200);
    expect(listed.body.data[0].slug).toBe('payments');
    expect((await request(t.http).get('/api/v1/workspaces').set(auth(key.body.key))).status).toBe(200);
    const denied = await request(t.http).post('/api/v1/workspaces').set('X-API-Key', key.body.key).send({ slug: 'other', display_name: 'Other' });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'PERMISSION_DENIED', details: [{ permission: 'workspace.manage' }] });
    const keys = await request(t.http).get('/api/v1/api-keys').set(auth(alice.token));
    expect(JSON.stringify(keys.body)).not.toContain(key.body.key);
  });
});
