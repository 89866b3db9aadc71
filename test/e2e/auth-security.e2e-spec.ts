import { JwtService } from '@nestjs/jwt';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { ADMIN, assign, auth, createMember, createTenant, login, Session, setupPlatform } from '../helpers/identity';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('authentication and access control (e2e)', () => {
  let t: TestApp;
  let admin: Session;
  let acme: { tenantId: string; owner: Session };
  const jwt = new JwtService();

  beforeAll(async () => {
    t = await createTestApp();
    admin = await setupPlatform(t);
    acme = await createTenant(t, admin, 'acme');
  });
  afterAll(() => t.close());

  const me = (token: string) => request(t.http).get('/api/v1/auth/me').set(auth(token));
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  const sign = (payload: object, options: { secret?: string; algorithm?: 'HS256' | 'HS512'; issuer?: string; audience?: string } = {}) =>
    jwt.sign(payload, {
      secret: options.secret ?? t.config.jwt.secret,
      algorithm: options.algorithm ?? 'HS256',
      issuer: options.issuer ?? t.config.jwt.issuer,
      audience: options.audience ?? t.config.jwt.audience,
    });

  describe('JWT verification', () => {
    it('accepts the token it issued', async () => {
      expect((await me(acme.owner.token)).status).toBe(200);
    });

    it('rejects alg "none"', async () => {
      const { sub, tid, sid } = claimsOf(acme.owner.token);
      const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, tid, sid, iss: 'countersign', aud: 'countersign-api', exp: 9999999999 })}.`;
      const res = await me(forged);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    });

    it('rejects RS256 and HS512 tokens (algorithm pinned to HS256)', async () => {
      const { sub, tid, sid } = claimsOf(acme.owner.token);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const rs = jwt.sign({ sub, tid, sid }, { privateKey, algorithm: 'RS256', issuer: t.config.jwt.issuer, audience: t.config.jwt.audience });
      expect((await me(rs)).body.error.code).toBe('INVALID_CREDENTIALS');
      const hs512 = sign({ sub, tid, sid }, { algorithm: 'HS512' });
      expect((await me(hs512)).status).toBe(401);
    });

    it('rejects a tampered payload, a wrong secret, issuer or audience', async () => {
      const [h, , s] = acme.owner.token.split('.');
      const claims = claimsOf(acme.owner.token);
      const tampered = `${h}.${b64({ ...claims, tid: admin.tenantId })}.${s}`;
      expect((await me(tampered)).body.error.code).toBe('INVALID_CREDENTIALS');
      const { sub, tid, sid } = claims;
      expect((await me(sign({ sub, tid, sid }, { secret: 'x'.repeat(48) }))).status).toBe(401);
      expect((await me(sign({ sub, tid, sid }, { issuer: 'someone-else' }))).status).toBe(401);
      expect((await me(sign({ sub, tid, sid }, { audience: 'other-api' }))).status).toBe(401);
    });

    it('rejects an expired token with TOKEN_EXPIRED', async () => {
      const { sub, tid, sid } = claimsOf(acme.owner.token);
      const expired = sign({ sub, tid, sid, exp: Math.floor(Date.now() / 1000) - 10 });
      const res = await me(expired);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('TOKEN_EXPIRED');
    });

    it('a session-less but well-signed token for another tenant is refused', async () => {
      const { sub, sid, exp } = claimsOf(acme.owner.token);
      expect((await me(sign({ sub, sid, exp, tid: admin.tenantId }))).body.error.code).toBe('INVALID_CREDENTIALS');
    });

    it('refuses a correctly signed token without exp (jsonwebtoken checks exp only when present)', async () => {
      const { sub, tid, sid, exp } = claimsOf(acme.owner.token);
      expect((await me(sign({ sub, tid, sid, exp }))).status).toBe(200); // the same claims with exp are fine
      const res = await me(sign({ sub, tid, sid }));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
      // An iat far in the future does not stand in for an expiry either.
      const future = await me(sign({ sub, tid, sid, iat: Math.floor(Date.now() / 1000) + 10 * 365 * 86400 }));
      expect(future.status).toBe(401);
    });
  });

  describe('sessions', () => {
    it('login: unknown email and wrong password give the same 401', async () => {
      const unknown = await request(t.http).post('/api/v1/auth/login').send({ email: 'nobody@example.com', password: 'whatever whatever' });
      const wrong = await request(t.http).post('/api/v1/auth/login').send({ email: ADMIN.email, password: 'not the password' });
      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(unknown.body.error.code).toBe('INVALID_CREDENTIALS');
      expect(wrong.body.error.message).toBe(unknown.body.error.message);
    });

    it('refresh rotates; reusing a rotated token revokes the whole session', async () => {
      const s = await login(t, ADMIN.email, ADMIN.password);
      const first = await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: s.refresh });
      expect(first.status).toBe(200);
      expect(first.body.refresh_token).not.toBe(s.refresh);
      expect((await me(first.body.access_token)).status).toBe(200);

      const reuse = await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: s.refresh });
      expect(reuse.status).toBe(401);
      expect(reuse.body.error.code).toBe('TOKEN_REVOKED');
      // The family is gone: the newest refresh token and every access token of the session fail.
      expect((await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: first.body.refresh_token })).body.error.code).toBe('TOKEN_REVOKED');
      expect((await me(first.body.access_token)).body.error.code).toBe('TOKEN_REVOKED');
      expect((await me(s.token)).body.error.code).toBe('TOKEN_REVOKED');
      expect((await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: 'csr_unknown' })).body.error.code).toBe('INVALID_CREDENTIALS');
    });

    it('logout revokes the session so its unexpired access token fails', async () => {
      const s = await login(t, ADMIN.email, ADMIN.password);
      expect((await request(t.http).post('/api/v1/auth/logout').set(auth(s.token))).status).toBe(204);
      expect((await me(s.token)).body.error.code).toBe('TOKEN_REVOKED');
      expect((await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: s.refresh })).status).toBe(401);
    });

    it('switch-tenant: a tenant the user belongs to gives a new pair; another is 404', async () => {
      // An existing account joins another tenant by accepting the invitation with its own password.
      const invited = await request(t.http).post('/api/v1/users').set(auth(acme.owner.token)).send({ email: ADMIN.email, name: 'Admin' }).expect(201);
      await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: invited.body.invitation_token, password: ADMIN.password }).expect(200);
      const s = await login(t, ADMIN.email, ADMIN.password);
      const switched = await request(t.http).post('/api/v1/auth/switch-tenant').set(auth(s.token)).send({ tenant_id: acme.tenantId });
      expect(switched.status).toBe(200);
      expect((await me(switched.body.access_token)).body.tenant.id).toBe(acme.tenantId);
      const other = await createTenant(t, admin, 'globex');
      expect((await request(t.http).post('/api/v1/auth/switch-tenant').set(auth(acme.owner.token)).send({ tenant_id: other.tenantId })).status).toBe(404);
    });
  });

  describe('revocation takes effect on the next request', () => {
    it('removing an assignment, disabling a user, suspending a tenant, revoking a key', async () => {
      const carol = await createMember(t, acme.owner, 'carol@acme.example');
      const assignmentId = await assign(t, acme.owner, carol.userId, 'auditor', 'tenant', acme.tenantId);
      expect((await request(t.http).get('/api/v1/workspaces').set(auth(carol.token))).status).toBe(200);
      await request(t.http).delete(`/api/v1/user-roles/${assignmentId}`).set(auth(acme.owner.token)).expect(204);
      expect((await request(t.http).get('/api/v1/workspaces').set(auth(carol.token))).status).toBe(403);

      await request(t.http).patch(`/api/v1/users/${carol.userId}`).set(auth(acme.owner.token)).send({ status: 'disabled' }).expect(200);
      expect((await me(carol.token)).body.error.code).toBe('TOKEN_REVOKED');
      expect((await request(t.http).post('/api/v1/auth/login').send({ email: 'carol@acme.example', password: 'member password 123' })).status).toBe(401);

      const key = await request(t.http).post('/api/v1/api-keys').set(auth(acme.owner.token)).send({ name: 'k', permissions: ['workspace.read'] });
      expect((await request(t.http).get('/api/v1/workspaces').set('X-API-Key', key.body.key)).status).toBe(200);
      await request(t.http).post(`/api/v1/api-keys/${key.body.id}/revoke`).set(auth(acme.owner.token)).expect(200);
      const revoked = await request(t.http).get('/api/v1/workspaces').set('X-API-Key', key.body.key);
      expect(revoked.status).toBe(401);
      expect(revoked.body.error.code).toBe('TOKEN_REVOKED');

      const initech = await createTenant(t, admin, 'initech');
      const key2 = await request(t.http).post('/api/v1/api-keys').set(auth(initech.owner.token)).send({ name: 'k2', permissions: ['workspace.read'] });
      await request(t.http).patch(`/api/v1/tenants/${initech.tenantId}`).set(auth(admin.token)).send({ status: 'suspended' }).expect(200);
      expect((await me(initech.owner.token)).body.error.code).toBe('TOKEN_REVOKED');
      expect((await request(t.http).get('/api/v1/workspaces').set('X-API-Key', key2.body.key)).body.error.code).toBe('TOKEN_REVOKED');
      await request(t.http).delete(`/api/v1/tenants/${initech.tenantId}`).set(auth(admin.token)).expect(200);
      const listed = await request(t.http).get('/api/v1/tenants').set(auth(admin.token));
      expect(listed.body.data.map((x: { slug: string }) => x.slug)).not.toContain('initech');
      const deleted = await request(t.http).get('/api/v1/tenants?status=deleted').set(auth(admin.token));
      expect(deleted.body.data.map((x: { slug: string }) => x.slug)).toContain('initech');
    });
  });

  describe('anti-escalation', () => {
    it('nobody grants what they do not hold at that scope: roles, assignments, API keys', async () => {
      const dave = await createMember(t, acme.owner, 'dave@acme.example');
      const erin = await createMember(t, acme.owner, 'erin@acme.example');
      const ws = await request(t.http).post('/api/v1/workspaces').set(auth(acme.owner.token)).send({ slug: 'esc', display_name: 'Esc' });
      const limited = await request(t.http)
        .post('/api/v1/roles')
        .set(auth(acme.owner.token))
        .send({ name: 'ws-lead', permissions: ['user_role.edit', 'role.edit', 'role.read', 'workspace.read', 'apikey.manage'] });
      await request(t.http).post('/api/v1/user-roles').set(auth(acme.owner.token)).send({ user_id: dave.userId, role_id: limited.body.id, scope_type: 'workspace', scope_id: ws.body.id }).expect(201);

      const adminRole = await request(t.http).get('/api/v1/roles').set(auth(acme.owner.token));
      const adminId = (adminRole.body.data as { id: string; name: string }[]).find((r) => r.name === 'admin')!.id;
      const escalate = await request(t.http).post('/api/v1/user-roles').set(auth(dave.token)).send({ user_id: erin.userId, role_id: adminId, scope_type: 'workspace', scope_id: ws.body.id });
      expect(escalate.status).toBe(403);
      expect(escalate.body.error.code).toBe('PRIVILEGE_ESCALATION');

      // Roles are tenant-level: dave's workspace-scope role.edit does not reach them at all.
      const role = await request(t.http).post('/api/v1/roles').set(auth(dave.token)).send({ name: 'sneaky', permissions: ['workspace.read'] });
      expect(role.body.error).toMatchObject({ code: 'PERMISSION_DENIED', details: [{ permission: 'role.edit', scope: 'tenant' }] });
      // A tenant-scope role editor still cannot put into a role what they do not hold tenant-wide.
      const frank = await createMember(t, acme.owner, 'frank@acme.example');
      const editor = await request(t.http).post('/api/v1/roles').set(auth(acme.owner.token)).send({ name: 'role-editor', permissions: ['role.edit', 'role.read'] });
      await request(t.http).post('/api/v1/user-roles').set(auth(acme.owner.token)).send({ user_id: frank.userId, role_id: editor.body.id, scope_type: 'tenant', scope_id: acme.tenantId }).expect(201);
      const sneaky = await request(t.http).post('/api/v1/roles').set(auth(frank.token)).send({ name: 'sneaky', permissions: ['workspace.read'] });
      expect(sneaky.body.error.code).toBe('PRIVILEGE_ESCALATION');

      const key = await request(t.http).post('/api/v1/api-keys').set(auth(dave.token)).send({ name: 'k', permissions: ['workspace.read'] });
      expect(key.body.error.code).toBe('PRIVILEGE_ESCALATION');

      const ok = await request(t.http).post('/api/v1/user-roles').set(auth(dave.token)).send({ user_id: erin.userId, role_id: limited.body.id, scope_type: 'workspace', scope_id: ws.body.id });
      expect(ok.status).toBe(201);
    });
  });

  describe('mass assignment', () => {
    it.each([
      ['/api/v1/workspaces', { slug: 'mass', display_name: 'M', tenant_id: 'ten_x' }, 'tenant_id'],
      ['/api/v1/workspaces', { slug: 'mass', display_name: 'M', status: 'deleted' }, 'status'],
      ['/api/v1/roles', { name: 'mass', permissions: [], id: 'rol_x' }, 'id'],
      ['/api/v1/users', { email: 'm@acme.example', name: 'M', tenant_id: 'ten_x' }, 'tenant_id'],
      ['/api/v1/api-keys', { name: 'm', permissions: [], created_by: 'usr_x' }, 'created_by'],
    ])('POST %s with %j → 400 naming %s', async (path, body, field) => {
      const res = await request(t.http).post(path).set(auth(acme.owner.token)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual({ field, issue: 'is not allowed' });
    });
  });
});
