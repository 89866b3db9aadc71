import { JwtService } from '@nestjs/jwt';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import request from 'supertest';
import { secretKeyId } from '../../src/common/auth/jwt.strategy';
import { AuditService } from '../../src/modules/audit/audit.service';
import { ADMIN, auth, login, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

/**
 * Rotation of JWT_SECRET / JWT_PRIVATE_KEY, API_KEY_PEPPER and AUDIT_SIGNING_KEY: the same database served by one app
 * after another, each with the keys of a step of the runbook (docs/operations.md, "Rotating keys").
 */
const secret = () => randomBytes(32).toString('base64url');
const seed = () => randomBytes(32).toString('base64');
const rsaPem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string | undefined;
const me = (t: TestApp, token: string) => request(t.http).get('/api/v1/auth/me').set(auth(token));

describe('key rotation (e2e)', () => {
  let db: TestDatabase;
  // Every app of a test uses the same fixed keys except the ones the test rotates.
  const base = { JWT_SECRET: secret(), API_KEY_PEPPER: secret(), AUDIT_SIGNING_KEY: seed(), KMS_MASTER_KEY: seed() };
  let current: TestApp | undefined;

  /** Stops the running app (if any) and starts one with `env` over `base`, on the shared database. */
  async function restart(env: Record<string, string> = {}): Promise<TestApp> {
    await current?.close();
    current = await createTestApp({ db, env: { ...base, ...env } });
    return current;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    await setupPlatform(await restart());
  });
  afterAll(async () => {
    await current?.close();
    await db.drop();
  });

  describe('JWT_SECRET', () => {
    it('a new secret refuses earlier access tokens (401) while refresh tokens still work; JWT_SECRET_PREVIOUS keeps them valid', async () => {
      const a = secret();
      const b = secret();
      let t = await restart({ JWT_SECRET: a });
      const first = await login(t, ADMIN.email, ADMIN.password);
      const second = await login(t, ADMIN.email, ADMIN.password);
      expect(kidOf(first.token)).toBe(secretKeyId(a));

      // Rotation without an overlap: the access token fails, the refresh token (opaque, stored hashed) does not.
      t = await restart({ JWT_SECRET: b });
      const refused = await me(t, first.token);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('INVALID_CREDENTIALS');
      const refreshed = await request(t.http).post('/api/v1/auth/refresh').send({ refresh_token: first.refresh });
      expect(refreshed.status).toBe(200);
      expect(kidOf(refreshed.body.access_token)).toBe(secretKeyId(b));
      expect((await me(t, refreshed.body.access_token)).status).toBe(200);

      // With the old secret as JWT_SECRET_PREVIOUS, its tokens verify; new tokens are signed with the new secret only.
      t = await restart({ JWT_SECRET: b, JWT_SECRET_PREVIOUS: a });
      expect((await me(t, second.token)).status).toBe(200);
      const fresh = await login(t, ADMIN.email, ADMIN.password);
      expect(() => new JwtService().verify(fresh.token, { secret: b })).not.toThrow();
      expect(() => new JwtService().verify(fresh.token, { secret: a })).toThrow();

      // A token that names the previous key but is signed with another secret is refused; so is a kid nobody knows.
      const claims = new JwtService().decode<{ sub: string; tid: string; sid: string }>(second.token);
      const sign = (key: string, kid: string) =>
        new JwtService().sign({ sub: claims.sub, tid: claims.tid, sid: claims.sid }, { secret: key, keyid: kid, issuer: 'countersign', audience: 'countersign-api', expiresIn: 600 });
      expect((await me(t, sign(secret(), secretKeyId(a)))).status).toBe(401);
      expect((await me(t, sign(secret(), 'unknown-kid'))).status).toBe(401);
      expect((await me(t, sign(a, 'unknown-kid'))).status).toBe(401);

      // Once the previous secret is dropped, its tokens stop verifying.
      t = await restart({ JWT_SECRET: b });
      expect((await me(t, second.token)).status).toBe(401);
      expect((await me(t, fresh.token)).status).toBe(200);
    });

    it('RS256: JWT_PRIVATE_KEY_PREVIOUS verifies the old key’s tokens and the JWKS serves both public keys, signing key first', async () => {
      const a = rsaPem();
      const b = rsaPem();
      let t = await restart({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: a });
      const old = await login(t, ADMIN.email, ADMIN.password);
      const oldKid = kidOf(old.token)!;

      const publicA = createPublicKey(a).export({ format: 'pem', type: 'spki' }).toString();
      t = await restart({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: b, JWT_PRIVATE_KEY_PREVIOUS: publicA });
      expect((await me(t, old.token)).status).toBe(200);
      const fresh = await login(t, ADMIN.email, ADMIN.password);
      const jwks = await request(t.http).get('/.well-known/jwks.json');
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([kidOf(fresh.token), oldKid]);
      const [header, payload, signature] = fresh.token.split('.');
      expect(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwks.body.keys[0], format: 'jwk' }), Buffer.from(signature, 'base64url'))).toBe(true);

      t = await restart({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: b });
      expect((await me(t, old.token)).status).toBe(401);
      expect((await request(t.http).get('/.well-known/jwks.json')).body.keys).toHaveLength(1);
    });
  });

  describe('API_KEY_PEPPER', () => {
    const hmac = (pepper: string, key: string) => createHmac('sha256', pepper).update(key).digest('hex');
    const useKey = (t: TestApp, key: string) => request(t.http).get('/api/v1/workspaces').set('X-API-Key', key);
    const storedHash = async (id: string) => {
      const c = await db.client();
      try {
        return (await c.query<{ key_hash: string; last_used_at: Date | null }>('SELECT key_hash, last_used_at FROM api_keys WHERE id = $1', [id])).rows[0];
      } finally {
        await c.end();
      }
    };

    it('keys hashed under API_KEY_PEPPER_PREVIOUS work and are re-hashed under the new pepper on use; unused ones stop when it is dropped', async () => {
      const a = secret();
      const b = secret();
      let t = await restart({ API_KEY_PEPPER: a });
      const session = await login(t, ADMIN.email, ADMIN.password);
      const create = async (name: string) => {
        const res = await request(t.http).post('/api/v1/api-keys').set(auth(session.token)).send({ name, permissions: ['workspace.read'] });
        expect(res.status).toBe(201);
        return res.body as { id: string; key: string };
      };
      const used = await create('used-during-overlap');
      const idle = await create('idle-during-overlap');
      expect((await useKey(t, used.key)).status).toBe(200);
      expect((await storedHash(used.id)).key_hash).toBe(hmac(a, used.key));

      // A new pepper alone locks every key out.
      t = await restart({ API_KEY_PEPPER: b });
      const locked = await useKey(t, used.key);
      expect(locked.status).toBe(401);
      expect(locked.body.error.code).toBe('INVALID_CREDENTIALS');

      // The overlap: found under the previous pepper, moved to the new one (and marked used) by that request.
      t = await restart({ API_KEY_PEPPER: b, API_KEY_PEPPER_PREVIOUS: a });
      const before = await storedHash(used.id);
      expect((await useKey(t, used.key)).status).toBe(200);
      const after = await storedHash(used.id);
      expect(after.key_hash).toBe(hmac(b, used.key));
      expect(after.last_used_at!.getTime()).toBeGreaterThan(before.last_used_at?.getTime() ?? 0);
      expect((await useKey(t, used.key)).status).toBe(200);
      expect((await storedHash(idle.id)).key_hash).toBe(hmac(a, idle.key));

      // Previous pepper dropped: the re-hashed key works, the one never used during the overlap does not.
      t = await restart({ API_KEY_PEPPER: b });
      expect((await useKey(t, used.key)).status).toBe(200);
      expect((await useKey(t, idle.key)).status).toBe(401);
      // A revoked key found under the previous pepper stays revoked.
      t = await restart({ API_KEY_PEPPER: a, API_KEY_PEPPER_PREVIOUS: b });
      const revoke = await request(t.http).post(`/api/v1/api-keys/${used.id}/revoke`).set(auth((await login(t, ADMIN.email, ADMIN.password)).token));
      expect(revoke.status).toBeLessThan(300);
      const refused = await useKey(t, used.key);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('TOKEN_REVOKED');
      expect((await storedHash(used.id)).key_hash).toBe(hmac(b, used.key));
    });
  });

  describe('AUDIT_SIGNING_KEY', () => {
    const verifyOf = async (t: TestApp, token: string) => (await request(t.http).get('/api/v1/audit-events/verify').set(auth(token))).body as { verified: boolean; checked: number };
    const checkpointsOf = async (t: TestApp, token: string) => (await request(t.http).get('/api/v1/audit-events/checkpoints?limit=100').set(auth(token))).body;
    const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    type Checkpoint = { chain: string; seq: number; last_event_id: string; hash: string; signature: string; key_id: string };
    const signedBy = (body: { keys: { key_id: string; public_key_pem: string }[] }, c: Checkpoint) => {
      const key = body.keys.find((k) => k.key_id === c.key_id);
      const message = `countersign-audit-v1|${c.chain}|${c.seq}|${c.last_event_id}|${c.hash}`;
      return !!key && verify(null, Buffer.from(message), createPublicKey(key.public_key_pem), Buffer.from(c.signature, 'base64'));
    };

    it('checkpoints of the previous key verify, the sealer signs the latest again with the new key, and both public keys are served', async () => {
      const a = seed();
      const b = seed();
      // The schedule is slowed down where a step must see the state before the sealer runs; sealPending() seals now.
      const manual = { AUDIT_SEAL_INTERVAL_MS: '600000' };
      let t = await restart({ AUDIT_SIGNING_KEY: a, ...manual });
      let session = await login(t, ADMIN.email, ADMIN.password);
      // Enough checkpoints that their ids pass 9 → 10 (text order would then pick a stale one as the latest).
      for (let i = 0; i < 12; i++) {
        expect((await request(t.http).post('/api/v1/workspaces').set(auth(session.token)).send({ slug: `rotation-a${i}`, display_name: 'A' })).status).toBe(201);
        await t.app.get(AuditService).sealPending();
      }
      const underA = await checkpointsOf(t, session.token);
      const keyA = underA.key_id as string;
      expect(underA.keys.map((k: { key_id: string }) => k.key_id)).toEqual([keyA]);
      expect(underA.data[0].key_id).toBe(keyA);
      const sealedUnderA = underA.data[0].seq as number;

      // B signs, A still verifies: the latest checkpoint (A's) is green before the sealer has run.
      t = await restart({ AUDIT_SIGNING_KEY: b, AUDIT_SIGNING_KEY_PREVIOUS: a, ...manual });
      session = await login(t, ADMIN.email, ADMIN.password);
      expect(await verifyOf(t, session.token)).toMatchObject({ verified: true });
      const during = await checkpointsOf(t, session.token);
      const keyB = during.key_id as string;
      expect(keyB).not.toBe(keyA);
      expect(during.keys.map((k: { key_id: string }) => k.key_id)).toEqual([keyB, keyA]);
      expect(during.public_key).toBe(during.keys[0].public_key);
      expect(during.data[0]).toMatchObject({ seq: sealedUnderA, key_id: keyA });
      expect(signedBy(during, during.data[0])).toBe(true);

      // The scheduled sealer's first run signs the latest checkpoint of every chain again with B, same position.
      t = await restart({ AUDIT_SIGNING_KEY: b, AUDIT_SIGNING_KEY_PREVIOUS: a, AUDIT_SEAL_INTERVAL_MS: '200' });
      session = await login(t, ADMIN.email, ADMIN.password);
      const resigned = await until('the latest checkpoint signed by B', async () => {
        const body = await checkpointsOf(t, session.token);
        return body.data.find((c: { key_id: string }) => c.key_id === keyB) ? body : undefined;
      });
      const againUnderB = resigned.data.find((c: { key_id: string; seq: number }) => c.key_id === keyB && c.seq === sealedUnderA);
      expect(againUnderB).toBeDefined();
      expect(signedBy(resigned, againUnderB)).toBe(true);
      // New events get checkpoints signed by B.
      expect((await request(t.http).post('/api/v1/workspaces').set(auth(session.token)).send({ slug: 'rotation-b', display_name: 'B' })).status).toBe(201);
      await t.app.get(AuditService).sealPending();
      const later = await checkpointsOf(t, session.token);
      expect(later.data[0].seq).toBeGreaterThan(sealedUnderA);
      expect(later.data[0].key_id).toBe(keyB);
      const signedByA = (later.data as Checkpoint[]).filter((c) => c.key_id === keyA);
      expect(signedByA.length).toBeGreaterThan(0);
      expect(signedByA.every((c) => signedBy(later, c))).toBe(true);

      // A dropped: verify stays green (the latest checkpoint is B's); A's old checkpoints are listed, its key no longer.
      t = await restart({ AUDIT_SIGNING_KEY: b, ...manual });
      session = await login(t, ADMIN.email, ADMIN.password);
      expect(await verifyOf(t, session.token)).toMatchObject({ verified: true });
      const afterwards = await checkpointsOf(t, session.token);
      expect(afterwards.keys.map((k: { key_id: string }) => k.key_id)).toEqual([keyB]);
      expect(afterwards.data.some((c: { key_id: string }) => c.key_id === keyA)).toBe(true);

      // A key replaced with no overlap: the latest checkpoint (B's) can no longer be checked, and verify says so.
      t = await restart({ AUDIT_SIGNING_KEY: seed(), ...manual });
      session = await login(t, ADMIN.email, ADMIN.password);
      expect(await verifyOf(t, session.token)).toMatchObject({ verified: false });
    });
  });
});
