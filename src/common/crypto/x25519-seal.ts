import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, KeyObject } from 'node:crypto';
import { decryptWithDek, encryptWithDek, fromB64, GCM_IV_BYTES, GCM_TAG_BYTES, toB64 } from './envelope';
import { CryptoError } from './kms';
import { required } from '../errors/invariant';

/** HKDF info string of the patch-flow seal (SPEC §5). */
export const WRAP_INFO = 'countersign-wrap-v1';
const X25519_BYTES = 32;
const ZERO_X = Buffer.alloc(X25519_BYTES).toString('base64url');

/** A value sealed to an agent's X25519 key; every field standard base64 (SPEC §5). */
export interface SealedValue {
  ephemeral_public_key: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Raw 32-byte X25519 public key → KeyObject. Throws `CryptoError` (INVALID_PUBLIC_KEY) when it is not one. */
export function x25519PublicKeyFromRaw(raw: Buffer): KeyObject {
  if (!Buffer.isBuffer(raw) || raw.length !== X25519_BYTES) {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'An X25519 public key is 32 bytes.');
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'Not an X25519 public key.');
  }
}

/** X25519 KeyObject (public, or private: its public half) → raw 32 bytes. */
export function x25519PublicKeyToRaw(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'x25519') throw new CryptoError('INVALID_PUBLIC_KEY', 'Not an X25519 key.');
  return Buffer.from(required(publicKey.export({ format: 'jwk' }).x, 'x of an X25519 JWK'), 'base64url');
}

/** Raw 32-byte X25519 private key → KeyObject. */
export function x25519PrivateKeyFromRaw(raw: Buffer): KeyObject {
  if (!Buffer.isBuffer(raw) || raw.length !== X25519_BYTES) {
    throw new CryptoError('INVALID_LENGTH', 'An X25519 private key is 32 bytes.');
  }
  const d = raw.toString('base64url');
  // Node's JWK import requires `x` but derives the key from `d` alone; import once to learn the real public half,
  // then again with it, so the KeyObject never carries a placeholder.
  const provisional = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: ZERO_X }, format: 'jwk' });
  const x = required(createPublicKey(provisional).export({ format: 'jwk' }).x, 'x of an X25519 JWK');
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x }, format: 'jwk' });
}

/** X25519 private KeyObject → raw 32 bytes. */
export function x25519PrivateKeyToRaw(key: KeyObject): Buffer {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'x25519') throw new CryptoError('INVALID_LENGTH', 'Not an X25519 private key.');
  return Buffer.from(required(key.export({ format: 'jwk' }).d, 'd of an X25519 private JWK'), 'base64url');
}

export function generateX25519KeyPair(): { publicKeyRaw: Buffer; privateKey: KeyObject; privateKeyRaw: Buffer } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKeyRaw: x25519PublicKeyToRaw(publicKey), privateKey, privateKeyRaw: x25519PrivateKeyToRaw(privateKey) };
}

/**
 * True for 32 bytes that import as an X25519 public key and are not of small order (for those, every shared secret
 * is all zeros and OpenSSL refuses the exchange, so nothing could ever be sealed to the key).
 */
export function isValidX25519PublicKey(raw: Buffer): boolean {
  try {
    const publicKey = x25519PublicKeyFromRaw(raw);
    diffieHellman({ privateKey: generateKeyPairSync('x25519').privateKey, publicKey });
    return true;
  } catch {
    return false;
  }
}

/** HKDF-SHA256 of an X25519 shared secret: empty salt, info `countersign-wrap-v1`, 32 bytes (SPEC §5). */
export function deriveWrapKey(sharedSecret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', sharedSecret, Buffer.alloc(0), WRAP_INFO, 32));
}

/**
 * Seals `plaintext` to an agent's raw X25519 public key: fresh ephemeral key pair, ECDH, HKDF-SHA256, AES-256-GCM
 * (12-byte iv, 16-byte tag, no additional data). `testOnly` pins the ephemeral key and iv for fixed vectors; never
 * pass it in production code.
 */
export function sealToPublicKey(
  recipientPublicKeyRaw32: Buffer,
  plaintext: Buffer,
  testOnly: { ephemeralPrivateKey?: KeyObject | Buffer; iv?: Buffer } = {},
): SealedValue {
  const recipient = x25519PublicKeyFromRaw(recipientPublicKeyRaw32);
  const ephemeral = toPrivateKey(testOnly.ephemeralPrivateKey ?? generateKeyPairSync('x25519').privateKey);
  const key = deriveWrapKey(exchange(ephemeral, recipient));
  try {
    const { iv, tag, ciphertext } = encryptWithDek(key, plaintext, { iv: testOnly.iv });
    return { ephemeral_public_key: toB64(x25519PublicKeyToRaw(ephemeral)), iv: toB64(iv), tag: toB64(tag), ciphertext: toB64(ciphertext) };
  } finally {
    key.fill(0);
  }
}

/** Inverse of `sealToPublicKey`, for the agent holding the private key. Throws `CryptoError` on any alteration. */
export function openSealed(recipientPrivateKey: KeyObject | Buffer, sealed: SealedValue): Buffer {
  const ephemeral = x25519PublicKeyFromRaw(fromB64(sealed.ephemeral_public_key, X25519_BYTES));
  const key = deriveWrapKey(exchange(toPrivateKey(recipientPrivateKey), ephemeral));
  try {
    return decryptWithDek(key, {
      iv: fromB64(sealed.iv, GCM_IV_BYTES),
      tag: fromB64(sealed.tag, GCM_TAG_BYTES),
      ciphertext: fromB64(sealed.ciphertext),
    });
  } finally {
    key.fill(0);
  }
}

function toPrivateKey(key: KeyObject | Buffer): KeyObject {
  return Buffer.isBuffer(key) ? x25519PrivateKeyFromRaw(key) : key;
}

function exchange(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'X25519 key agreement failed (small-order or mismatched key).');
  }
}
