import { isIP } from 'node:net';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why an issuer URL is refused, or null when it is acceptable: https with a host, no credentials, query or fragment
 * (OpenID Connect Discovery §4.3 compares the issuer exactly); http only for a loopback host and only when
 * `allowInsecure` (OIDC_ALLOW_INSECURE_ISSUERS) is set.
 */
export function issuerUrlProblem(value: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.search || url.hash || value.includes('#') || value.includes('?')) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return url.hostname ? null : 'must name a host';
  if (url.protocol !== 'http:') return 'must be an https:// URL';
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || (isIP(url.hostname) === 4 && url.hostname.startsWith('127.'));
  if (!loopback) return 'must be an https:// URL (http:// only for loopback hosts with OIDC_ALLOW_INSECURE_ISSUERS)';
  return allowInsecure ? null : 'must be an https:// URL (http:// loopback issuers need OIDC_ALLOW_INSECURE_ISSUERS=true)';
}

/** `example.com` from `Someone@Example.COM` (lower case), or null without an `@`. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at > 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : null;
}
