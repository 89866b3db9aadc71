import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from './app-config';

const keys = {
  JWT_SECRET: 'j'.repeat(40),
  KMS_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
  API_KEY_PEPPER: 'p'.repeat(40),
  AUDIT_SIGNING_KEY: Buffer.alloc(32, 2).toString('base64'),
};

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-config-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('applies the documented defaults', () => {
    const config = loadConfig({ ...keys, DATA_DIR: dir });
    expect(config.port).toBe(8000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.shutdownGraceSeconds).toBe(25);
    expect(config.jwt.accessTtlSeconds).toBe(3600);
    expect(config.generatedSecrets).toEqual([]);
    expect(config.httpKeepAliveTimeoutMs).toBe(65000);
    expect(config.dbStatementTimeoutMs).toBe(5000);
    expect(config.setupToken).toBeUndefined();
  });

  it('reads the keep-alive, statement timeout and setup token settings', () => {
    const config = loadConfig({ ...keys, DATA_DIR: dir, HTTP_KEEP_ALIVE_TIMEOUT_MS: '620000', DB_STATEMENT_TIMEOUT_MS: '0', SETUP_TOKEN: 's'.repeat(20) });
    expect(config.httpKeepAliveTimeoutMs).toBe(620000);
    expect(config.dbStatementTimeoutMs).toBe(0);
    expect(config.setupToken).toBe('s'.repeat(20));
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'must be an integer number'],
    [{ PORT: '70000' }, 'PORT', 'must not be greater than 65535'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'must be a postgres:// or postgresql:// URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'must be one of'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET', 'must be at least 32 bytes'],
    [{ KMS_MASTER_KEY: 'bm90LTMyLWJ5dGVz' }, 'KMS_MASTER_KEY', 'must be 32 bytes, base64-encoded'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: 'long' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'must be an integer number'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'must not be less than 1000'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '3600001' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'must not be greater than 3600000'],
    [{ DB_STATEMENT_TIMEOUT_MS: '-1' }, 'DB_STATEMENT_TIMEOUT_MS', 'must not be less than 0'],
    [{ DB_STATEMENT_TIMEOUT_MS: '5s' }, 'DB_STATEMENT_TIMEOUT_MS', 'must be an integer number'],
    [{ SETUP_TOKEN: 'short' }, 'SETUP_TOKEN', 'must be at least 16 characters'],
  ])('refuses %j naming the variable', (bad, variable, problem) => {
    let error: unknown;
    try {
      loadConfig({ ...keys, DATA_DIR: dir, ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^Invalid configuration: ${variable} \\S`));
    expect((error as ConfigError).message).toContain(`${variable} ${problem}`);
    expect((error as ConfigError).message).not.toContain('\n');
  });

  it('generates missing keys once, owner-only, and reuses them', () => {
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.generatedSecrets.sort()).toEqual(Object.keys(keys).sort());
    const file = path.join(dir, 'secrets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect(second.kms.masterKey).toBe(first.kms.masterKey);
    expect(Buffer.from(first.kms.masterKey, 'base64')).toHaveLength(32);
  });

  it('RS256 needs an RSA private key of at least 2048 bits', () => {
    expect(() => loadConfig({ ...keys, DATA_DIR: dir, JWT_ALGORITHM: 'RS256' })).toThrow(/JWT_PRIVATE_KEY is required when JWT_ALGORITHM=RS256/);
    expect(() => loadConfig({ ...keys, DATA_DIR: dir, JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'not a key' })).toThrow(/JWT_PRIVATE_KEY is not a PEM private key/);
    const { generateKeyPairSync } = require('node:crypto') as typeof import('node:crypto');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadConfig({ ...keys, DATA_DIR: dir, JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: small })).toThrow(/at least 2048 bits/);
    const good = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const config = loadConfig({ ...keys, DATA_DIR: dir, JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: good.replace(/\n/g, '\\n') });
    expect(config.jwt.asymmetric?.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: config.jwt.asymmetric?.kid });
    expect(config.jwt.asymmetric?.publicKeyPem).toContain('BEGIN PUBLIC KEY');
  });

  it('generates nothing in production: a missing key stops the start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir })).toThrow(/JWT_SECRET is required when NODE_ENV=production/);
    expect(fs.existsSync(path.join(dir, 'secrets.json'))).toBe(false);
  });
});
