import { createHmac, randomBytes } from 'node:crypto';

/** A signing secret, shown once: `whsec_` + 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * `X-Countersign-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, one `v1=` per secret
 * that currently signs (two during a rotation), so a receiver holding either secret verifies.
 */
export function signatureHeader(secrets: string[], body: string, unixSeconds: number): string {
  const signed = `${unixSeconds}.${body}`;
  return [`t=${unixSeconds}`, ...secrets.map((s) => `v1=${createHmac('sha256', s).update(signed).digest('hex')}`)].join(',');
}
