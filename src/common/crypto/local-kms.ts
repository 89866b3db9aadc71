import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fromB64, toB64 } from './envelope';
import { CryptoError, Kms } from './kms';
import { required } from '../errors/invariant';

export interface LocalKmsKeys {
  /** Base64 of the 32-byte current key-encryption key. */
  masterKey: string;
  /** Version recorded in every new wrap (≥ 1). */
  keyVersion: number;
  /** Older keys kept so their wraps still open after a rotation. */
  retiredKeys: { version: number; key: string }[];
}

const FORMAT = 'csk1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const VERSION = /^[1-9][0-9]{0,8}$/;

/**
 * `KMS_PROVIDER=local`: AES-256-GCM key-encryption keys held in process memory.
 *
 * Blob: `csk1.<version>.<b64 iv>.<b64 tag>.<b64 ciphertext>` (standard padded base64, 12-byte random iv, 16-byte tag).
 * The associated data is `csk1.<version>`, followed by NUL and the context when one is given, so neither the version
 * label nor the record the blob belongs to can be changed without the tag failing.
 */
export class LocalKms implements Kms {
  private readonly keys = new Map<number, Buffer>();
  private readonly version: number;

  constructor(config: LocalKmsKeys) {
    this.version = config.keyVersion;
    for (const { version, key } of [{ version: config.keyVersion, key: config.masterKey }, ...config.retiredKeys]) {
      if (!Number.isInteger(version) || version < 1) throw new CryptoError('KMS_KEY_INVALID', `KMS key version ${version} is not an integer ≥ 1.`);
      if (this.keys.has(version)) throw new CryptoError('KMS_KEY_INVALID', `KMS key version ${version} is configured twice.`);
      this.keys.set(version, decodeKey(key, version));
    }
  }

  currentVersion(): number {
    return this.version;
  }

  async wrap(plaintext: Buffer, context?: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', required(this.keys.get(this.version), `KMS key version ${this.version}`), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(this.version, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [FORMAT, String(this.version), toB64(iv), toB64(cipher.getAuthTag()), toB64(ciphertext)].join('.');
  }

  async unwrap(wrapped: string, context?: string): Promise<Buffer> {
    const { version, iv, tag, ciphertext } = parse(wrapped);
    const key = this.keys.get(version);
    if (!key) {
      const known = [...this.keys.keys()].sort((a, b) => a - b).join(', ');
      throw new CryptoError('KMS_KEY_VERSION_UNKNOWN', `KMS key version ${version} is not configured (known versions: ${known}).`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(version, context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new CryptoError('KMS_UNWRAP_FAILED', `KMS unwrap failed (key version ${version}): the blob was altered or the context does not match.`);
    }
  }
}

function decodeKey(b64: string, version: number): Buffer {
  try {
    return fromB64(b64, KEY_BYTES);
  } catch {
    throw new CryptoError('KMS_KEY_INVALID', `KMS key version ${version} is not 32 bytes of standard base64.`);
  }
}

function associatedData(version: number, context: string | undefined): Buffer {
  const header = `${FORMAT}.${version}`;
  return Buffer.from(context === undefined ? header : `${header}\u0000${context}`, 'utf8');
}

function parse(wrapped: string): { version: number; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = typeof wrapped === 'string' ? wrapped.split('.') : [];
  if (parts.length !== 5 || parts[0] !== FORMAT || !VERSION.test(parts[1])) {
    throw new CryptoError('KMS_BLOB_MALFORMED', `Not a ${FORMAT} wrapped key.`);
  }
  try {
    return {
      version: Number(parts[1]),
      iv: fromB64(parts[2], IV_BYTES),
      tag: fromB64(parts[3], TAG_BYTES),
      ciphertext: fromB64(parts[4]),
    };
  } catch {
    throw new CryptoError('KMS_BLOB_MALFORMED', `Not a ${FORMAT} wrapped key: a field is not canonical base64 of the right length.`);
  }
}
