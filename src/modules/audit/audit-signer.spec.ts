import { createHash, createPublicKey, verify } from 'node:crypto';
import { loadConfig } from '../../config/app-config';
import { AuditSigner } from './audit-signer';

const seedA = Buffer.alloc(32, 1).toString('base64');
const seedB = Buffer.alloc(32, 2).toString('base64');
const seedC = Buffer.alloc(32, 3).toString('base64');

describe('AuditSigner', () => {
  // Every key is given, so nothing is generated under DATA_DIR.
  const signer = (current: string, previous?: string) =>
    new AuditSigner(
      loadConfig({
        JWT_SECRET: 'j'.repeat(40),
        API_KEY_PEPPER: 'p'.repeat(40),
        KMS_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
        AUDIT_SIGNING_KEY: current,
        ...(previous ? { AUDIT_SIGNING_KEY_PREVIOUS: previous } : {}),
      }),
    );

  it('names its key by the first 16 hex digits of SHA-256 over the raw public key, and signs verifiably with it', () => {
    const a = signer(seedA);
    const key = a.current();
    expect(a.keyId).toBe(createHash('sha256').update(Buffer.from(key.public_key, 'base64')).digest('hex').slice(0, 16));
    expect(Buffer.from(key.public_key, 'base64')).toHaveLength(32);
    const signature = a.sign('message');
    expect(verify(null, Buffer.from('message'), createPublicKey(key.public_key_pem), Buffer.from(signature, 'base64'))).toBe(true);
    expect(a.rotating).toBe(false);
  });

  it('verifies signatures of previous keys by key id, never under the wrong id, and tries every trusted key for a null id', () => {
    const a = signer(seedA);
    const c = signer(seedC);
    const rotated = signer(seedB, `${seedA},${seedC}`);
    expect(rotated.rotating).toBe(true);
    expect(rotated.trustedKeys().map((k) => k.key_id)).toEqual([rotated.keyId, a.keyId, c.keyId]);
    const byA = a.sign('m');
    expect(rotated.verify('m', byA, a.keyId)).toBe(true);
    expect(rotated.verify('m', byA, c.keyId)).toBe(false);
    expect(rotated.verify('m', byA, null)).toBe(true);
    expect(rotated.verify('m', byA, 'ffffffffffffffff')).toBe(false);
    expect(rotated.verify('other', byA, a.keyId)).toBe(false);
    expect(rotated.verify('m', rotated.sign('m'), rotated.keyId)).toBe(true);
    // Once A is no longer trusted, its signatures fail under any id.
    expect(signer(seedB).verify('m', byA, a.keyId)).toBe(false);
    expect(signer(seedB).verify('m', byA, null)).toBe(false);
  });
});
