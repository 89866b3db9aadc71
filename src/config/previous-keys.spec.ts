import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from './app-config';

const keys = {
  JWT_SECRET: 'j'.repeat(40),
  KMS_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
  API_KEY_PEPPER: 'p'.repeat(40),
  AUDIT_SIGNING_KEY: Buffer.alloc(32, 2).toString('base64'),
};
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('loadConfig: previous keys for rotation (<NAME>_PREVIOUS)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-previous-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = (env: Record<string, string>) => loadConfig({ ...keys, DATA_DIR: dir, ...env });
  const problem = (env: Record<string, string>): ConfigError => {
    try {
      config(env);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('accepted');
  };

  it('defaults to none', () => {
    const c = config({});
    expect(c.jwt.previousSecrets).toEqual([]);
    expect(c.jwt.previousPublicKeys).toEqual([]);
    expect(c.apiKeyPepperPrevious).toEqual([]);
    expect(c.auditSigningKeyPrevious).toEqual([]);
  });

  it('reads comma-separated lists', () => {
    const seeds = [Buffer.alloc(32, 3).toString('base64'), Buffer.alloc(32, 4).toString('base64')];
    const c = config({ JWT_SECRET_PREVIOUS: `${'a'.repeat(32)}, ${'b'.repeat(40)}`, API_KEY_PEPPER_PREVIOUS: 'q'.repeat(32), AUDIT_SIGNING_KEY_PREVIOUS: seeds.join(',') });
    expect(c.jwt.previousSecrets).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
    expect(c.apiKeyPepperPrevious).toEqual(['q'.repeat(32)]);
    expect(c.auditSigningKeyPrevious).toEqual(seeds);
  });

  it('keeps only the public half of previous RS256 keys, given as private or public PEM (with \\n escapes), for the JWKS', () => {
    const [a, b] = [rsa(), rsa()];
    const publicB = createPublicKey(b).export({ format: 'pem', type: 'spki' }).toString();
    const c = config({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsa(), JWT_PRIVATE_KEY_PREVIOUS: `${a.replace(/\n/g, '\\n')},${publicB}` });
    expect(c.jwt.previousPublicKeys).toHaveLength(2);
    expect(c.jwt.previousPublicKeys[0].publicKeyPem).toBe(createPublicKey(a).export({ format: 'pem', type: 'spki' }).toString());
    expect(c.jwt.previousPublicKeys[1].publicKeyPem).toBe(publicB);
    expect(c.jwt.previousPublicKeys.map((k) => k.jwk.kid)).toEqual(c.jwt.previousPublicKeys.map((k) => k.kid));
    expect(JSON.stringify(c.jwt.previousPublicKeys)).not.toContain('PRIVATE');
  });

  it.each([
    [{ JWT_SECRET_PREVIOUS: 'short' }, 'JWT_SECRET_PREVIOUS', 'at least 32 characters'],
    [{ JWT_SECRET_PREVIOUS: keys.JWT_SECRET }, 'JWT_SECRET_PREVIOUS', 'repeats a key (or holds the current one)'],
    [{ API_KEY_PEPPER_PREVIOUS: `${'q'.repeat(32)},${'q'.repeat(32)}` }, 'API_KEY_PEPPER_PREVIOUS', 'repeats a key'],
    [{ API_KEY_PEPPER_PREVIOUS: `${'q'.repeat(32)},` }, 'API_KEY_PEPPER_PREVIOUS', 'at least 32 characters'],
    [{ AUDIT_SIGNING_KEY_PREVIOUS: 'bm90LTMyLWJ5dGVz' }, 'AUDIT_SIGNING_KEY_PREVIOUS', 'must be comma-separated 32-byte Ed25519 seeds'],
    [{ AUDIT_SIGNING_KEY_PREVIOUS: keys.AUDIT_SIGNING_KEY }, 'AUDIT_SIGNING_KEY_PREVIOUS', 'repeats a key'],
    [{ JWT_PRIVATE_KEY_PREVIOUS: 'not a pem' }, 'JWT_PRIVATE_KEY_PREVIOUS', 'applies only with JWT_ALGORITHM=RS256'],
    [{ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsa(), JWT_PRIVATE_KEY_PREVIOUS: 'not a pem' }, 'JWT_PRIVATE_KEY_PREVIOUS', 'must hold PEM keys'],
    [{ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsa(), JWT_SECRET_PREVIOUS: 'a'.repeat(32) }, 'JWT_SECRET_PREVIOUS', 'applies only with JWT_ALGORITHM=HS256'],
  ])('refuses %#: %s', (env, variable, text) => {
    const error = problem(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(text);
    for (const value of Object.values(env)) if (value.length >= 32) expect(error.message).not.toContain(value);
  });

  it('refuses the current RS256 key as a previous one', () => {
    const a = rsa();
    expect(problem({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: a, JWT_PRIVATE_KEY_PREVIOUS: a }).variable).toBe('JWT_PRIVATE_KEY_PREVIOUS');
  });
});
