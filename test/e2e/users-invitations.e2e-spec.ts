import request from 'supertest';
import { auth, createMember, createTenant, login, Session, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * Adding a user by email invites them: an account that exists in another tenant is neither revealed nor joined until
 * its owner accepts with their own password. Failed logins show up in the tenants of the account they target.
 */
describe('users, invitations and failed logins across tenants (e2e)', () => {
  let t: TestApp;
  let acme: { tenantId: string; owner: Session };
  let bravo: { tenantId: string; owner: Session };
  let alice: Session;
  const ALICE = { email: 'alice@acme.example', password: 'member password 123' };

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> => {
    const c = await t.db.client();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };
  const invite = (as: Session, body: object) => request(t.http).post('/api/v1/users').set(auth(as.token)).send(body);
  const accept = (token: string, password: string, name?: string) => request(t.http).post('/api/v1/auth/accept-invitation').send({ token, password, ...(name ? { name } : {}) });
  const loginStatus = async (email: string, password: string, tenantId?: string) =>
    (await request(t.http).post('/api/v1/auth/login').send({ email, password, ...(tenantId ? { tenant_id: tenantId } : {}) })).status;
  /** The response with what differs by nature between two invitations (ids, times, token, the given email and name) blanked. */
  const shape = (body: Record<string, unknown>) => ({
    ...body,
    id: expect.stringMatching(/^usr_[0-9A-Z]{26}$/),
    email: expect.any(String),
    name: expect.any(String),
    created_at: expect.any(String),
    updated_at: expect.any(String),
    invitation_token: expect.stringMatching(/^csi_/),
  });

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_DEFAULT: '100000' } });
    const admin = await setupPlatform(t);
    acme = await createTenant(t, admin, 'acme');
    bravo = await createTenant(t, admin, 'bravo');
    alice = await createMember(t, acme.owner, ALICE.email);
  });
  afterAll(() => t.close());

  it('inviting an email that has an account elsewhere answers exactly as for a new email, and joins nobody', async () => {
    const started = Date.now();
    const existing = await invite(bravo.owner, { email: ALICE.email, name: 'Al' });
    const fresh = await invite(bravo.owner, { email: 'newbie@bravo.example', name: 'Nu' });
    for (const res of [existing, fresh]) {
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^usr_[0-9A-Z]{26}$/),
        email: expect.any(String),
        name: expect.any(String),
        status: 'invited',
        is_platform_admin: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        invitation_token: expect.stringMatching(/^csi_/),
      });
      expect(Date.parse(res.body.created_at)).toBeGreaterThanOrEqual(started - 5_000);
    }
    expect(existing.body).toEqual(shape(fresh.body));
    // Nothing of Alice's account: not her id (whose ULID would date the account), not her name.
    expect(existing.body).toMatchObject({ email: ALICE.email, name: 'Al' });
    expect(existing.body.id).not.toBe(alice.userId);

    // The tenant sees both the same way, and neither is a member yet.
    const as = auth(bravo.owner.token);
    for (const res of [existing, fresh]) {
      const one = await request(t.http).get(`/api/v1/users/${res.body.id}`).set(as);
      expect(one.status).toBe(200);
      const { invitation_token: _token, ...listed } = res.body;
      expect(one.body).toEqual(listed);
      expect((await request(t.http).get(`/api/v1/users/${res.body.id}/roles`).set(as)).body.data).toEqual([]);
      expect((await request(t.http).patch(`/api/v1/users/${res.body.id}`).set(as).send({ status: 'active' })).status).toBe(409);
      expect((await invite(bravo.owner, { email: res.body.email, name: 'again' })).status).toBe(409);
    }
    const invited = (await request(t.http).get('/api/v1/users?status=invited&limit=200').set(as)).body.data.map((u: { id: string }) => u.id);
    expect(invited).toEqual(expect.arrayContaining([existing.body.id, fresh.body.id]));
    expect(await sql(`SELECT 1 FROM tenant_members WHERE tenant_id = $1 AND user_id = $2`, [bravo.tenantId, alice.userId])).toEqual([]);
    expect(await loginStatus(ALICE.email, ALICE.password, bravo.tenantId)).toBe(401);
    expect((await request(t.http).get('/api/v1/auth/me').set(auth(alice.token))).body.memberships.map((m: { tenant_id: string }) => m.tenant_id)).toEqual([acme.tenantId]);
  });

  it("the existing account joins only with its own password; the token alone neither joins nor changes it", async () => {
    const res = await invite(bravo.owner, { email: 'alice2@acme.example', name: 'A2' });
    expect(res.status).toBe(201);
    // The account is made after the invitation: accepting now means joining that account, so its password counts.
    const alice2 = await createMember(t, acme.owner, 'alice2@acme.example');
    const wrong = await accept(res.body.invitation_token, 'not her password 1');
    expect({ status: wrong.status, code: wrong.body.error?.code }).toEqual({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect(await loginStatus('alice2@acme.example', 'member password 123')).toBe(200);
    expect(await loginStatus('alice2@acme.example', 'not her password 1')).toBe(401);
    // A failed accept does not use the token up.
    const ok = await accept(res.body.invitation_token, 'member password 123');
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ id: alice2.userId, email: 'alice2@acme.example', status: 'active' });
    expect((await accept(res.body.invitation_token, 'member password 123')).status).toBe(401);
    const session = await login(t, 'alice2@acme.example', 'member password 123', bravo.tenantId);
    expect(session.tenantId).toBe(bravo.tenantId);
    expect(session.userId).toBe(alice2.userId);
    // Bravo now lists her under her account's id, as a member.
    const listed = await request(t.http).get(`/api/v1/users?email=alice2@acme.example`).set(auth(bravo.owner.token));
    expect(listed.body.data).toEqual([expect.objectContaining({ id: alice2.userId, status: 'active' })]);
  });

  it('a password sent for an email with an account elsewhere is not set: it is an invitation too', async () => {
    const res = await invite(bravo.owner, { email: ALICE.email.toUpperCase(), name: 'Takeover', password: 'attacker password 1' });
    // Alice already has an open invitation from the first test (case-insensitive email): 409, nothing changes.
    expect(res.status).toBe(409);
    const carol = await createMember(t, acme.owner, 'carol@acme.example');
    const withPassword = await invite(bravo.owner, { email: 'carol@acme.example', name: 'Takeover', password: 'attacker password 1' });
    expect(withPassword.status).toBe(201);
    expect(withPassword.body).toMatchObject({ status: 'invited', name: 'Takeover' });
    expect(withPassword.body.invitation_token).toMatch(/^csi_/);
    expect(withPassword.body.id).not.toBe(carol.userId);
    expect(await loginStatus('carol@acme.example', 'attacker password 1')).toBe(401);
    expect(await loginStatus('carol@acme.example', 'member password 123')).toBe(200);
    expect((await accept(withPassword.body.invitation_token, 'attacker password 1')).status).toBe(401);
    expect(await sql(`SELECT 1 FROM tenant_members WHERE tenant_id = $1 AND user_id = $2`, [bravo.tenantId, carol.userId])).toEqual([]);
  });

  it('a new email: the invitation creates the account, with the id the tenant was shown', async () => {
    const res = await invite(bravo.owner, { email: 'dora@bravo.example', name: 'Dora' });
    const ok = await accept(res.body.invitation_token, 'dora password 1234', 'Dora D');
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ id: res.body.id, email: 'dora@bravo.example', name: 'Dora D', status: 'active' });
    expect((await login(t, 'dora@bravo.example', 'dora password 1234')).tenantId).toBe(bravo.tenantId);
    // With a password, a new email is an active member at once (no invitation).
    const eve = await invite(bravo.owner, { email: 'eve@bravo.example', name: 'Eve', password: 'eve password 12345' });
    expect(eve.body).toMatchObject({ status: 'active' });
    expect(eve.body.invitation_token).toBeUndefined();
  });

  it("a failed login of a known member is in each of their tenants' audit logs; an unknown email stays tenant-less; same answer", async () => {
    // alice2 is a member of acme and bravo since the second test.
    const known = await request(t.http).post('/api/v1/auth/login').set('X-Request-ID', 'brute-known-0001').send({ email: 'alice2@acme.example', password: 'guess guess guess' });
    const unknown = await request(t.http).post('/api/v1/auth/login').set('X-Request-ID', 'brute-unknown-0001').send({ email: 'nobody@nowhere.example', password: 'guess guess guess' });
    for (const res of [known, unknown]) expect(res.status).toBe(401);
    expect({ ...known.body.error, request_id: 'x' }).toEqual({ ...unknown.body.error, request_id: 'x' });
    expect(known.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);

    for (const tenant of [acme, bravo]) {
      const events = await request(t.http).get('/api/v1/audit-events?request_id=brute-known-0001').set(auth(tenant.owner.token));
      expect(events.status).toBe(200);
      expect(events.body.data).toEqual([
        expect.objectContaining({ action: 'session.login_failed', outcome: 'failure', tenant_id: tenant.tenantId, payload: { email: 'alice2@acme.example', reason: 'invalid_credentials' } }),
      ]);
    }
    expect(await sql(`SELECT tenant_id, action FROM audit_events WHERE request_id = 'brute-unknown-0001'`)).toEqual([{ tenant_id: null, action: 'session.login_failed' }]);
  });

  it('guessing a member’s password through an invitation is audited in their tenants like a failed login', async () => {
    const res = await invite(bravo.owner, { email: 'fay@acme.example', name: 'Fay' });
    await createMember(t, acme.owner, 'fay@acme.example');
    const guess = await request(t.http).post('/api/v1/auth/accept-invitation').set('X-Request-ID', 'invite-guess-0001').send({ token: res.body.invitation_token, password: 'guess guess guess' });
    expect(guess.status).toBe(401);
    const events = await request(t.http).get('/api/v1/audit-events?request_id=invite-guess-0001').set(auth(acme.owner.token));
    expect(events.body.data).toEqual([expect.objectContaining({ action: 'session.login_failed', payload: { email: 'fay@acme.example', reason: 'invitation_wrong_password' } })]);
  });
});
