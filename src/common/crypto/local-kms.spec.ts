import { CryptoError } from './kms';
import { LocalKms } from './local-kms';

const KEY_V1 = Buffer.alloc(32, 7).toString('base64');
const KEY_V2 = Buffer.alloc(32, 9).toString('base64');
const DEK = Buffer.alloc(32, 0x42);

// Made once with LocalKms (key v1 = 32 × 0x07, context below) and checked with plain node:crypto; pins the format.
const PINNED_CONTEXT = 'wrap:01J0000000000000000000000';
const PINNED_BLOB = 'csk1.1.Dx/KLoAzSqFp632X.0I7d/2fdLvQd4S8hDLtuTw==.IHvNCQhF9OaNnROs9JgZ8tekcXFMbl0x0ESZLc0EnRM=';

async function caught(promise: Promise<unknown>): Promise<CryptoError> {
  try {
    await promise;
  } catch (e) {
    return e as CryptoError;
  }
  throw new Error('expected a rejection');
}

describe('LocalKms', () => {
  const v1 = () => new LocalKms({ masterKey: KEY_V1, keyVersion: 1, retiredKeys: [] });
  const v2 = () => new LocalKms({ masterKey: KEY_V2, keyVersion: 2, retiredKeys: [{ version: 1, key: KEY_V1 }] });

  it('opens the pinned v1 blob (the format and associated data are stable)', async () => {
    expect(await v1().unwrap(PINNED_BLOB, PINNED_CONTEXT)).toEqual(DEK);
    expect(await v2().unwrap(PINNED_BLOB, PINNED_CONTEXT)).toEqual(DEK);
  });

  it('writes csk1.<version>.<iv>.<tag>.<ciphertext> with a 12-byte random iv and a 16-byte tag', async () => {
    const blob = await v1().wrap(DEK);
    expect(blob).toMatch(/^csk1\.1\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/]{22}==\.[A-Za-z0-9+/]{43}=$/);
    expect(await v1().wrap(DEK)).not.toBe(blob);
    expect(await v1().unwrap(blob)).toEqual(DEK);
    expect(v1().currentVersion()).toBe(1);
  });

  it('rotation: a v1 blob still opens once v2 is current with v1 retired, and new wraps carry v2', async () => {
    const old = await v1().wrap(DEK, 'ctx');
    const rotated = v2();
    expect(rotated.currentVersion()).toBe(2);
    expect(await rotated.unwrap(old, 'ctx')).toEqual(DEK);
    const fresh = await rotated.wrap(DEK, 'ctx');
    expect(fresh.startsWith('csk1.2.')).toBe(true);
    expect(await rotated.unwrap(fresh, 'ctx')).toEqual(DEK);
    // The old configuration cannot open what the new key wrapped.
    expect((await caught(v1().unwrap(fresh, 'ctx'))).code).toBe('KMS_KEY_VERSION_UNKNOWN');
  });

  it('an unknown version fails with a message that names versions, never key bytes', async () => {
    const blob = (await v1().wrap(DEK)).replace(/^csk1\.1\./, 'csk1.7.');
    const error = await caught(v2().unwrap(blob));
    expect(error).toBeInstanceOf(CryptoError);
    expect(error.code).toBe('KMS_KEY_VERSION_UNKNOWN');
    expect(error.message).toBe('KMS key version 7 is not configured (known versions: 1, 2).');
    for (const secret of [KEY_V1, KEY_V2, Buffer.alloc(32, 7).toString('hex'), DEK.toString('base64'), DEK.toString('hex')]) {
      expect(error.message).not.toContain(secret);
    }
  });

  it('relabelling a blob with another configured version fails (the version is authenticated)', async () => {
    const kms = new LocalKms({ masterKey: KEY_V1, keyVersion: 2, retiredKeys: [{ version: 1, key: KEY_V1 }] });
    const blob = (await kms.wrap(DEK)).replace(/^csk1\.2\./, 'csk1.1.');
    expect((await caught(kms.unwrap(blob))).code).toBe('KMS_UNWRAP_FAILED');
  });

  it('a context given at wrap must be given, identically, at unwrap', async () => {
    const kms = v1();
    const blob = await kms.wrap(DEK, 'request:1/wrap:1');
    expect(await kms.unwrap(blob, 'request:1/wrap:1')).toEqual(DEK);
    for (const wrong of [undefined, '', 'request:1/wrap:2', 'request:1/wrap:1 ']) {
      const error = await caught(kms.unwrap(blob, wrong));
      expect(error.code).toBe('KMS_UNWRAP_FAILED');
      expect(error.message).toContain('context does not match');
    }
    // …and none given at wrap means none at unwrap.
    expect((await caught(kms.unwrap(await kms.wrap(DEK), 'x'))).code).toBe('KMS_UNWRAP_FAILED');
  });

  it('changing any single character of a blob makes it fail', async () => {
    const kms = v1();
    const blob = await kms.wrap(DEK, 'ctx');
    for (let i = 0; i < blob.length; i++) {
      for (const c of ['A', 'B', '.', '9'].filter((x) => x !== blob[i])) {
        const tampered = blob.slice(0, i) + c + blob.slice(i + 1);
        await expect(kms.unwrap(tampered, 'ctx')).rejects.toThrow(CryptoError);
      }
    }
  });

  it.each([
    ['', 'empty'],
    ['csk2.1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AA==', 'another format'],
    ['csk1.01.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AA==', 'a non-canonical version'],
    ['csk1.0.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AA==', 'version 0'],
    ['csk1.1.AAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AA==', 'a short iv'],
    ['csk1.1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AA==', 'a short tag'],
    ['csk1.1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AA==.AA==', 'an extra field'],
    ['csk1.1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AA', 'unpadded base64'],
  ])('refuses a malformed blob: %j (%s)', async (blob) => {
    const error = await caught(v1().unwrap(blob));
    expect(error.code).toBe('KMS_BLOB_MALFORMED');
  });

  it('refuses a bad key configuration without echoing the key', () => {
    const short = Buffer.alloc(16, 3).toString('base64');
    expect(() => new LocalKms({ masterKey: short, keyVersion: 1, retiredKeys: [] })).toThrow('KMS key version 1 is not 32 bytes of standard base64.');
    try {
      new LocalKms({ masterKey: short, keyVersion: 1, retiredKeys: [] });
    } catch (e) {
      expect((e as Error).message).not.toContain(short);
    }
    expect(() => new LocalKms({ masterKey: KEY_V2, keyVersion: 2, retiredKeys: [{ version: 2, key: KEY_V1 }] })).toThrow(
      'KMS key version 2 is configured twice.',
    );
    expect(() => new LocalKms({ masterKey: KEY_V1, keyVersion: 0, retiredKeys: [] })).toThrow(/not an integer ≥ 1/);
  });
});
