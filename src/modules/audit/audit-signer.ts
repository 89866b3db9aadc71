import { Injectable } from '@nestjs/common';
import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { AppConfig } from '../../config/app-config';

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Ed25519 signatures for audit checkpoints, from the AUDIT_SIGNING_KEY seed. */
@Injectable()
export class AuditSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(config: AppConfig) {
    const seed = Buffer.from(config.auditSigningKey, 'base64');
    this.privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.privateKey);
  }

  sign(message: string): string {
    return sign(null, Buffer.from(message), this.privateKey).toString('base64');
  }

  verify(message: string, signature: string): boolean {
    return verify(null, Buffer.from(message), this.publicKey, Buffer.from(signature, 'base64'));
  }

  /** Raw 32-byte public key, base64 (as in SPEC §5 encodings), and PEM for tools. */
  publicKeyFormats(): { public_key: string; public_key_pem: string } {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { x: string };
    return { public_key: Buffer.from(jwk.x, 'base64url').toString('base64'), public_key_pem: this.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
  }
}
