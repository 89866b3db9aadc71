/**
 * The agent's cryptography on node:crypto alone (kept self-contained so agent/ never imports the server tree):
 * X25519 key pairs as raw 32-byte keys, opening a value sealed to the agent (patch flow) and AES-256-GCM under a
 * DEK (read flow). Same construction as SPEC §5: ECDH(X25519) → HKDF-SHA256 (no salt, info `countersign-wrap-v1`,
 * 32 bytes) → AES-256-GCM (12-byte iv, 16-byte tag, no additional data); every binary field standard base64.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, KeyObject, randomBytes } from 'node:crypto';

const WRAP_INFO = 'countersign-wrap-v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SealedValue {
  ephemeral_public_key: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface GcmParts {
  iv: string;
  tag: string;
  ciphertext: string;
}

/** A fresh X25519 key pair as raw 32-byte keys. */
export function generateKeyPair(): { publicKeyRaw: Buffer; privateKeyRaw: Buffer } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicKeyRaw: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
    privateKeyRaw: Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'),
  };
}

/** The raw public half of a raw X25519 private key. */
export function publicKeyOf(privateKeyRaw: Buffer): Buffer {
  return Buffer.from(createPublicKey(privateKeyFromRaw(privateKeyRaw)).export({ format: 'jwk' }).x!, 'base64url');
}

/** Opens a value sealed to this agent's X25519 key (patch flow). Throws when anything was altered. */
export function openSealed(privateKeyRaw: Buffer, sealed: SealedValue): Buffer {
  const ephemeral = publicKeyFromRaw(b64(sealed.ephemeral_public_key, KEY_BYTES));
  const shared = diffieHellman({ privateKey: privateKeyFromRaw(privateKeyRaw), publicKey: ephemeral });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), WRAP_INFO, KEY_BYTES));
  shared.fill(0);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, b64(sealed.iv, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(b64(sealed.tag, TAG_BYTES));
    return Buffer.concat([decipher.update(b64(sealed.ciphertext)), decipher.final()]);
  } finally {
    key.fill(0);
  }
}

/** AES-256-GCM under a 32-byte DEK, fresh 12-byte iv, no additional data (read flow). */
export function encryptWithDek(dek: Buffer, plaintext: Buffer): GcmParts {
  if (dek.length !== KEY_BYTES) throw new Error('A DEK is 32 bytes.');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dek, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
}

function b64(value: string, length?: number): Buffer {
  const buf = Buffer.from(value, 'base64');
  if (typeof value !== 'string' || buf.toString('base64') !== value) throw new Error('Not canonical base64.');
  if (length !== undefined && buf.length !== length) throw new Error(`Expected ${length} bytes, got ${buf.length}.`);
  return buf;
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function privateKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== KEY_BYTES) throw new Error('An X25519 private key is 32 bytes.');
  const d = raw.toString('base64url');
  // Node's JWK import wants `x` but derives the key from `d`; import once to learn the public half, then for real.
  const provisional = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: Buffer.alloc(KEY_BYTES).toString('base64url') }, format: 'jwk' });
  const x = createPublicKey(provisional).export({ format: 'jwk' }).x!;
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x }, format: 'jwk' });
}
