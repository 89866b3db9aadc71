/**
 * The key service: wraps and unwraps small secrets (data-encryption keys) under key-encryption keys it never
 * hands out. An interface so a cloud KMS or Vault transit can replace the local implementation (SPEC §5).
 */
export interface Kms {
  /**
   * Encrypts `plaintext` under the current key version. The result is an opaque, self-describing string that records
   * the key version, so it still opens after the key rotates. `context` is bound as associated data: a blob wrapped
   * with a context only unwraps with the same context (a wrapped DEK cannot be moved to another record).
   */
  wrap(plaintext: Buffer, context?: string): Promise<string>;
  /** Inverse of `wrap`. Throws `CryptoError` for a malformed or tampered blob, an unknown key version or a wrong context. */
  unwrap(wrapped: string, context?: string): Promise<Buffer>;
  /** The key version new wraps use. */
  currentVersion(): number;
}

/** Injection token for the configured `Kms`. */
export const KMS = Symbol('KMS');

export type CryptoErrorCode =
  | 'KMS_BLOB_MALFORMED'
  | 'KMS_KEY_VERSION_UNKNOWN'
  | 'KMS_UNWRAP_FAILED'
  | 'KMS_KEY_INVALID'
  | 'DECRYPT_FAILED'
  | 'INVALID_BASE64'
  | 'INVALID_LENGTH'
  | 'INVALID_PUBLIC_KEY';

/**
 * Every failure of the key service and the crypto helpers. Internal: never shown to a client as is (a caller maps it
 * to its own error). Messages never contain key material, plaintext or ciphertext.
 */
export class CryptoError extends Error {
  constructor(readonly code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}
