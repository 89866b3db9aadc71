import { Injectable } from '@nestjs/common';
import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { AppConfig } from '../../config/app-config';

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A public key that checkpoints may be signed with, in the encodings the checkpoints endpoint serves. */
export interface AuditPublicKey {
  /** First 16 hex digits of SHA-256 over the raw 32-byte public key; recorded with every checkpoint. */
  key_id: string;
  /** Raw 32-byte Ed25519 public key, base64 (as in SPEC §5 encodings). */
  public_key: string;
  public_key_pem: string;
}

function privateKeyOf(seedBase64: string): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(seedBase64, 'base64')]), format: 'der', type: 'pkcs8' });
}

function describe(publicKey: KeyObject): AuditPublicKey {
  const raw = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
  return {
    key_id: createHash('sha256').update(raw).digest('hex').slice(0, 16),
    public_key: raw.toString('base64'),
    public_key_pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/**
 * Ed25519 signatures for audit checkpoints, from the AUDIT_SIGNING_KEY seed. During a rotation the previous keys
 * (AUDIT_SIGNING_KEY_PREVIOUS; only their public halves are kept) still verify the checkpoints they signed.
 */
@Injectable()
export class AuditSigner {
  private readonly privateKey: KeyObject;
  /** The signing key's id. */
  readonly keyId: string;
  /** Current key first, then the previous ones. */
  private readonly trusted: { info: AuditPublicKey; publicKey: KeyObject }[];

  constructor(config: AppConfig) {
    this.privateKey = privateKeyOf(config.auditSigningKey);
    this.trusted = [config.auditSigningKey, ...config.auditSigningKeyPrevious].map((seed) => {
      const publicKey = createPublicKey(privateKeyOf(seed));
      return { info: describe(publicKey), publicKey };
    });
    this.keyId = this.trusted[0].info.key_id;
  }

  sign(message: string): string {
    return sign(null, Buffer.from(message), this.privateKey).toString('base64');
  }

  /**
   * Whether a trusted key signed `message`: the key `keyId` names (an unknown id fails), or, for checkpoints written
   * before key ids were recorded (null), any trusted key.
   */
  verify(message: string, signature: string, keyId: string | null): boolean {
    const candidates = keyId === null ? this.trusted : this.trusted.filter((k) => k.info.key_id === keyId);
    return candidates.some((k) => verify(null, Buffer.from(message), k.publicKey, Buffer.from(signature, 'base64')));
  }

  /** Whether checkpoints are signed with other keys too (a rotation is under way). */
  get rotating(): boolean {
    return this.trusted.length > 1;
  }

  /** The signing key's public half. */
  current(): AuditPublicKey {
    return this.trusted[0].info;
  }

  /** Every key whose checkpoints verify: the signing key first. */
  trustedKeys(): AuditPublicKey[] {
    return this.trusted.map((k) => k.info);
  }
}
