import { createPublicKey, hkdfSync } from 'node:crypto';
import { fromB64 } from './envelope';
import { CryptoError } from './kms';
import {
  deriveWrapKey,
  generateX25519KeyPair,
  isValidX25519PublicKey,
  openSealed,
  SealedValue,
  sealToPublicKey,
  x25519PrivateKeyFromRaw,
  x25519PrivateKeyToRaw,
  x25519PublicKeyFromRaw,
  x25519PublicKeyToRaw,
} from './x25519-seal';

const hex = (s: string) => Buffer.from(s, 'hex');
// RFC 7748 §6.1
const ALICE_PRIVATE = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const ALICE_PUBLIC = hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
const BOB_PRIVATE = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
const BOB_PUBLIC = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const SHARED = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
const IV = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i));

describe('X25519 key conversions (JWK import/export)', () => {
  it('derives the RFC 7748 public keys from the raw private keys', () => {
    expect(x25519PublicKeyToRaw(x25519PrivateKeyFromRaw(ALICE_PRIVATE))).toEqual(ALICE_PUBLIC);
    expect(x25519PublicKeyToRaw(x25519PrivateKeyFromRaw(BOB_PRIVATE))).toEqual(BOB_PUBLIC);
    expect(x25519PrivateKeyToRaw(x25519PrivateKeyFromRaw(ALICE_PRIVATE))).toEqual(ALICE_PRIVATE);
  });

  it('round-trips a raw public key through a KeyObject', () => {
    const key = x25519PublicKeyFromRaw(BOB_PUBLIC);
    expect(key.asymmetricKeyType).toBe('x25519');
    expect(key.type).toBe('public');
    expect(x25519PublicKeyToRaw(key)).toEqual(BOB_PUBLIC);
  });

  it('generates consistent key pairs', () => {
    const pair = generateX25519KeyPair();
    expect(pair.publicKeyRaw).toHaveLength(32);
    expect(pair.privateKeyRaw).toHaveLength(32);
    expect(x25519PublicKeyToRaw(createPublicKey(pair.privateKey))).toEqual(pair.publicKeyRaw);
    expect(x25519PublicKeyToRaw(x25519PrivateKeyFromRaw(pair.privateKeyRaw))).toEqual(pair.publicKeyRaw);
    expect(generateX25519KeyPair().publicKeyRaw.equals(pair.publicKeyRaw)).toBe(false);
  });

  it('isValidX25519PublicKey: 32 importable bytes, not of small order', () => {
    expect(isValidX25519PublicKey(ALICE_PUBLIC)).toBe(true);
    expect(isValidX25519PublicKey(generateX25519KeyPair().publicKeyRaw)).toBe(true);
    expect(isValidX25519PublicKey(ALICE_PUBLIC.subarray(0, 31))).toBe(false);
    expect(isValidX25519PublicKey(Buffer.concat([ALICE_PUBLIC, Buffer.alloc(1)]))).toBe(false);
    expect(isValidX25519PublicKey(Buffer.alloc(0))).toBe(false);
    expect(isValidX25519PublicKey(Buffer.alloc(32))).toBe(false); // the point 0: small order
    expect(isValidX25519PublicKey(hex('0100000000000000000000000000000000000000000000000000000000000000'))).toBe(false);
    expect(isValidX25519PublicKey('not a buffer' as unknown as Buffer)).toBe(false);
  });
});

describe('deriveWrapKey (HKDF-SHA256, empty salt, info countersign-wrap-v1, 32 bytes)', () => {
  it("Node's HKDF with an empty salt matches RFC 5869 test case 3", () => {
    const okm = Buffer.from(hkdfSync('sha256', Buffer.alloc(22, 0x0b), Buffer.alloc(0), Buffer.alloc(0), 42));
    expect(okm.toString('hex')).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  });

  it('gives the pinned key for the RFC 7748 shared secret', () => {
    expect(deriveWrapKey(SHARED).toString('hex')).toBe('4d5b1a0c3549e761ec1552c928ec286a922ee5b99db1fbe2cbf669ac281e9843');
  });
});

describe('sealToPublicKey / openSealed', () => {
  const PINNED: SealedValue = {
    ephemeral_public_key: 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=', // Alice's public key
    iv: 'oKGio6Slpqeoqaqr',
    tag: 'Hub8phZM8MAISC/Aiao2aA==',
    ciphertext: 'Lewddxjuf+ZLX+gI/FX9',
  };

  it('with a fixed ephemeral key (Alice) and iv, sealing to Bob gives the pinned output', () => {
    const sealed = sealToPublicKey(BOB_PUBLIC, Buffer.from('new-db-password', 'utf8'), { ephemeralPrivateKey: ALICE_PRIVATE, iv: IV });
    expect(sealed).toEqual(PINNED);
    const asKeyObject = sealToPublicKey(BOB_PUBLIC, Buffer.from('new-db-password', 'utf8'), {
      ephemeralPrivateKey: x25519PrivateKeyFromRaw(ALICE_PRIVATE),
      iv: IV,
    });
    expect(asKeyObject).toEqual(PINNED);
  });

  it('Bob opens the pinned output with his raw private key or a KeyObject', () => {
    expect(openSealed(BOB_PRIVATE, PINNED).toString('utf8')).toBe('new-db-password');
    expect(openSealed(x25519PrivateKeyFromRaw(BOB_PRIVATE), PINNED).toString('utf8')).toBe('new-db-password');
  });

  it('round-trips with a fresh ephemeral key each time; only the recipient can open', () => {
    const agent = generateX25519KeyPair();
    const plaintext = Buffer.from('päss\u0000wörd', 'utf8');
    const a = sealToPublicKey(agent.publicKeyRaw, plaintext);
    const b = sealToPublicKey(agent.publicKeyRaw, plaintext);
    expect(a.ephemeral_public_key).not.toBe(b.ephemeral_public_key);
    expect(fromB64(a.ephemeral_public_key, 32)).toHaveLength(32);
    expect(fromB64(a.iv, 12)).toHaveLength(12);
    expect(fromB64(a.tag, 16)).toHaveLength(16);
    expect(openSealed(agent.privateKey, a)).toEqual(plaintext);
    expect(openSealed(agent.privateKeyRaw, b)).toEqual(plaintext);
    expect(() => openSealed(generateX25519KeyPair().privateKey, a)).toThrow(CryptoError);
  });

  it('fails when any byte of any field is altered', () => {
    for (const field of ['ephemeral_public_key', 'iv', 'tag', 'ciphertext'] as const) {
      const bytes = fromB64(PINNED[field]);
      for (let i = 0; i < bytes.length; i++) {
        const copy = Buffer.from(bytes);
        copy[i] ^= 0x01;
        expect(() => openSealed(BOB_PRIVATE, { ...PINNED, [field]: copy.toString('base64') })).toThrow(CryptoError);
      }
    }
  });

  it('refuses non-canonical base64, wrong field sizes and a small-order recipient key', () => {
    expect(() => openSealed(BOB_PRIVATE, { ...PINNED, iv: 'oKGio6Slpqeoqaqr\n' })).toThrow(/base64/);
    expect(() => openSealed(BOB_PRIVATE, { ...PINNED, tag: 'Hub8phZM8MAISC/A' })).toThrow(/Expected 16 bytes/);
    expect(() => sealToPublicKey(Buffer.alloc(32), Buffer.from('x'))).toThrow(/key agreement failed/);
    expect(() => sealToPublicKey(BOB_PUBLIC.subarray(1), Buffer.from('x'))).toThrow(/32 bytes/);
  });
});
