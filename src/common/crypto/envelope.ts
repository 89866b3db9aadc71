import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError, Kms } from './kms';

export const DEK_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export interface GcmCiphertext {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** A value encrypted under a fresh DEK, with the DEK wrapped by the KMS. */
export interface Envelope extends GcmCiphertext {
  wrappedDek: string;
}

const CANONICAL_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding: the wire encoding of every binary field (SPEC §5). */
export function toB64(buf: Buffer): string {
  return buf.toString('base64');
}

/**
 * Decodes standard, padded base64 and refuses anything else: url-safe letters, missing padding, whitespace, or
 * non-zero trailing bits (Node's decoder silently accepts all of these, so two strings could mean the same bytes).
 */
export function fromB64(str: string, expectedLength?: number): Buffer {
  if (typeof str !== 'string' || !CANONICAL_B64.test(str)) {
    throw new CryptoError('INVALID_BASE64', 'Not standard padded base64.');
  }
  const buf = Buffer.from(str, 'base64');
  if (buf.toString('base64') !== str) throw new CryptoError('INVALID_BASE64', 'Not canonical base64.');
  if (expectedLength !== undefined && buf.length !== expectedLength) {
    throw new CryptoError('INVALID_BASE64', `Expected ${expectedLength} bytes, got ${buf.length}.`);
  }
  return buf;
}

/** A fresh 32-byte data-encryption key and the same key wrapped by the KMS (bound to `context` when given). */
export async function generateDek(kms: Kms, context?: string): Promise<{ dek: Buffer; wrappedDek: string }> {
  const dek = randomBytes(DEK_BYTES);
  return { dek, wrappedDek: await kms.wrap(dek, context) };
}

/**
 * AES-256-GCM under a DEK: 12-byte random iv, 16-byte tag, no additional data (SPEC §5's read-flow wrap).
 * `options.iv` exists for fixed test vectors only; reusing an iv under one key breaks GCM.
 */
export function encryptWithDek(dek: Buffer, plaintext: Buffer, options: { iv?: Buffer } = {}): GcmCiphertext {
  assertLength(dek, DEK_BYTES, 'DEK');
  const iv = options.iv ?? randomBytes(GCM_IV_BYTES);
  assertLength(iv, GCM_IV_BYTES, 'iv');
  const cipher = createCipheriv('aes-256-gcm', dek, iv, { authTagLength: GCM_TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Inverse of `encryptWithDek`. Throws `CryptoError` (DECRYPT_FAILED) when the tag does not verify. */
export function decryptWithDek(dek: Buffer, { iv, tag, ciphertext }: GcmCiphertext): Buffer {
  assertLength(dek, DEK_BYTES, 'DEK');
  assertLength(iv, GCM_IV_BYTES, 'iv');
  // A short tag would be accepted by GCM (and forgeable); insist on the full 16 bytes.
  assertLength(tag, GCM_TAG_BYTES, 'tag');
  const decipher = createDecipheriv('aes-256-gcm', dek, iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'Decryption failed: the ciphertext, iv or tag was altered, or the key is wrong.');
  }
}

/** Encrypts under a fresh DEK and wraps the DEK with the KMS; the plaintext DEK is wiped before returning. */
export async function envelopeEncrypt(kms: Kms, plaintext: Buffer, context?: string): Promise<Envelope> {
  const { dek, wrappedDek } = await generateDek(kms, context);
  try {
    return { wrappedDek, ...encryptWithDek(dek, plaintext) };
  } finally {
    dek.fill(0);
  }
}

/** Unwraps the DEK (with the same `context` as at encryption) and decrypts; the DEK is wiped before returning. */
export async function envelopeDecrypt(kms: Kms, envelope: Envelope, context?: string): Promise<Buffer> {
  const dek = await kms.unwrap(envelope.wrappedDek, context);
  try {
    if (dek.length !== DEK_BYTES) throw new CryptoError('DECRYPT_FAILED', 'The wrapped key is not a 32-byte DEK.');
    return decryptWithDek(dek, envelope);
  } finally {
    dek.fill(0);
  }
}

function assertLength(buf: Buffer, length: number, what: string): void {
  if (!Buffer.isBuffer(buf) || buf.length !== length) {
    throw new CryptoError('INVALID_LENGTH', `The ${what} must be ${length} bytes.`);
  }
}
