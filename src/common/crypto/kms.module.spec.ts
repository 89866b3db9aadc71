import { Test } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../config/app-config';
import { ConfigModule } from '../../config/config.module';
import { Kms, KMS } from './kms';
import { KmsModule } from './kms.module';
import { LocalKms } from './local-kms';

const KEY_V1 = Buffer.alloc(32, 1).toString('base64');
const KEY_V2 = Buffer.alloc(32, 2).toString('base64');
const KEY_V3 = Buffer.alloc(32, 3).toString('base64');
const otherKeys = { JWT_SECRET: 'j'.repeat(40), API_KEY_PEPPER: 'p'.repeat(40), AUDIT_SIGNING_KEY: Buffer.alloc(32, 9).toString('base64') };

describe('KMS configuration and KmsModule', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-kms-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = (env: Record<string, string>) => loadConfig({ ...otherKeys, DATA_DIR: dir, KMS_MASTER_KEY: KEY_V1, ...env });

  async function kmsFor(env: Record<string, string>): Promise<Kms> {
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config(env)), KmsModule] }).compile();
    return moduleRef.get<Kms>(KMS);
  }

  it('defaults to key version 1 and no retired keys', () => {
    expect(config({}).kms).toEqual({ provider: 'local', masterKey: KEY_V1, keyVersion: 1, retiredKeys: [] });
  });

  it('parses KMS_KEY_VERSION and KMS_RETIRED_KEYS', () => {
    const kms = config({ KMS_MASTER_KEY: KEY_V3, KMS_KEY_VERSION: '3', KMS_RETIRED_KEYS: `1:${KEY_V1},2:${KEY_V2}` }).kms;
    expect(kms.keyVersion).toBe(3);
    expect(kms.retiredKeys).toEqual([
      { version: 1, key: KEY_V1 },
      { version: 2, key: KEY_V2 },
    ]);
  });

  it.each([
    [{ KMS_KEY_VERSION: '0' }, 'KMS_KEY_VERSION', 'must not be less than 1'],
    [{ KMS_KEY_VERSION: 'two' }, 'KMS_KEY_VERSION', 'must be an integer number'],
    [{ KMS_RETIRED_KEYS: KEY_V2 }, 'KMS_RETIRED_KEYS', 'must be comma-separated version:key pairs'],
    [{ KMS_RETIRED_KEYS: `0:${KEY_V2}` }, 'KMS_RETIRED_KEYS', 'must be comma-separated version:key pairs'],
    [{ KMS_RETIRED_KEYS: '1:bm90LTMyLWJ5dGVz' }, 'KMS_RETIRED_KEYS', 'must be comma-separated version:key pairs'],
    [{ KMS_RETIRED_KEYS: `1:${KEY_V2},` }, 'KMS_RETIRED_KEYS', 'must be comma-separated version:key pairs'],
    [{ KMS_KEY_VERSION: '2', KMS_RETIRED_KEYS: `2:${KEY_V2}` }, 'KMS_RETIRED_KEYS', 'lists key version 2 twice'],
    [{ KMS_KEY_VERSION: '3', KMS_RETIRED_KEYS: `1:${KEY_V2},1:${KEY_V3}` }, 'KMS_RETIRED_KEYS', 'lists key version 1 twice'],
  ])('refuses %j naming the variable, without echoing a key', (bad, variable, problem) => {
    let error: unknown;
    try {
      config(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(`${variable} ${problem}`);
    for (const key of [KEY_V1, KEY_V2, KEY_V3]) expect((error as ConfigError).message).not.toContain(key);
  });

  it('provides a LocalKms under KMS, and rotation through configuration keeps old wraps open', async () => {
    const before = await kmsFor({});
    expect(before).toBeInstanceOf(LocalKms);
    const wrapped = await before.wrap(Buffer.from('dek'), 'wrap:1');
    expect(wrapped.startsWith('csk1.1.')).toBe(true);

    const after = await kmsFor({ KMS_MASTER_KEY: KEY_V2, KMS_KEY_VERSION: '2', KMS_RETIRED_KEYS: `1:${KEY_V1}` });
    expect(after.currentVersion()).toBe(2);
    expect((await after.unwrap(wrapped, 'wrap:1')).toString()).toBe('dek');
    expect((await after.wrap(Buffer.from('dek'))).startsWith('csk1.2.')).toBe(true);

    const forgot = await kmsFor({ KMS_MASTER_KEY: KEY_V2, KMS_KEY_VERSION: '2' });
    await expect(forgot.unwrap(wrapped, 'wrap:1')).rejects.toThrow('KMS key version 1 is not configured (known versions: 2).');
  });
});
