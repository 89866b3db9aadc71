import { JwtService } from '@nestjs/jwt';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';
import { auth, setupPlatform } from '../helpers/identity';

describe('RS256 access tokens and JWKS (e2e)', () => {
  let t: TestApp;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  beforeAll(async () => {
    t = await createTestApp({ env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') } });
  });
  afterAll(() => t.close());

  it('signs with RS256 and a key id that /.well-known/jwks.json publishes', async () => {
    const admin = await setupPlatform(t);
    const [header, payload, signature] = admin.token.split('.');
    const h = JSON.parse(Buffer.from(header, 'base64url').toString());
    expect(h.alg).toBe('RS256');
    const jwks = await request(t.http).get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    const jwk = jwks.body.keys[0];
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: h.kid });
    const ok = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
    expect(ok).toBe(true);
    expect((await request(t.http).get('/api/v1/auth/me').set(auth(admin.token))).status).toBe(200);
  });

  it('rejects the HS/RS confusion: an HS256 token keyed with the public key', async () => {
    // The platform admin exists from the previous test.
    const login = await request(t.http).post('/api/v1/auth/login').send({ email: 'admin@example.com', password: 'correct horse battery' });
    const claims = JSON.parse(Buffer.from(login.body.access_token.split('.')[1], 'base64url').toString());
    const publicPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
    const forged = new JwtService().sign({ sub: claims.sub, tid: claims.tid, sid: claims.sid }, { secret: publicPem, algorithm: 'HS256', issuer: 'countersign', audience: 'countersign-api' });
    const res = await request(t.http).get('/api/v1/auth/me').set(auth(forged));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('JWKS with HS256 (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('is 404: nothing public to publish', async () => {
    const res = await request(t.http).get('/.well-known/jwks.json');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});
