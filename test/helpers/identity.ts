import request from 'supertest';
import { TestApp } from './test-app';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery', name: 'Platform Admin' };

export interface Session {
  token: string;
  refresh: string;
  userId: string;
  tenantId: string;
}

export const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

export async function login(t: TestApp, email: string, password: string, tenantId?: string): Promise<Session> {
  const res = await request(t.http).post('/api/v1/auth/login').send({ email, password, ...(tenantId ? { tenant_id: tenantId } : {}) });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  const me = await request(t.http).get('/api/v1/auth/me').set(auth(res.body.access_token));
  return { token: res.body.access_token, refresh: res.body.refresh_token, userId: res.body.user.id, tenantId: me.body.tenant.id };
}

/** First-run setup and the platform admin's session in the default tenant. */
export async function setupPlatform(t: TestApp): Promise<Session> {
  const res = await request(t.http).post('/api/v1/auth/setup').send(ADMIN);
  if (res.status !== 201) throw new Error(`setup: ${res.status} ${JSON.stringify(res.body)}`);
  return login(t, ADMIN.email, ADMIN.password);
}

/** A tenant created by the platform admin, and its owner's session (invitation accepted). */
export async function createTenant(t: TestApp, admin: Session, slug: string): Promise<{ tenantId: string; owner: Session; ownerEmail: string }> {
  const ownerEmail = `owner@${slug}.example`;
  const res = await request(t.http).post('/api/v1/tenants').set(auth(admin.token)).send({ slug, display_name: slug.toUpperCase(), plan: 'team', admin_email: ownerEmail });
  if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${JSON.stringify(res.body)}`);
  const accepted = await request(t.http).post('/api/v1/auth/accept-invitation').send({ token: res.body.admin_invitation_token, password: 'owner password 123', name: `Owner ${slug}` });
  if (accepted.status !== 200) throw new Error(`accept: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return { tenantId: res.body.id, owner: await login(t, ownerEmail, 'owner password 123'), ownerEmail };
}

/** A member of the owner's tenant with a password and no roles. */
export async function createMember(t: TestApp, owner: Session, email: string): Promise<Session> {
  const password = 'member password 123';
  const res = await request(t.http).post('/api/v1/users').set(auth(owner.token)).send({ email, name: email.split('@')[0], password });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.body)}`);
  return login(t, email, password);
}

export async function roleId(t: TestApp, owner: Session, name: string): Promise<string> {
  const res = await request(t.http).get('/api/v1/roles?limit=200').set(auth(owner.token));
  const role = (res.body.data as { id: string; name: string }[]).find((r) => r.name === name);
  if (!role) throw new Error(`role ${name} not found`);
  return role.id;
}

export async function assign(t: TestApp, owner: Session, userId: string, role: string, scopeType: string, scopeId: string) {
  const res = await request(t.http)
    .post('/api/v1/user-roles')
    .set(auth(owner.token))
    .send({ user_id: userId, role_id: await roleId(t, owner, role), scope_type: scopeType, scope_id: scopeId });
  if (res.status !== 201) throw new Error(`assign: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
