import { BlockList, isIP } from 'node:net';

/**
 * Which webhook targets are refused (SPEC §3): anything but https, and any address that is private, loopback,
 * link-local, CGNAT, multicast, unspecified, unique-local or a cloud metadata address, in IPv4 or IPv6 (IPv4-mapped
 * IPv6 is judged as the IPv4 address it carries). `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_NETWORKS) lifts both rules.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

const MAPPED_V4 = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i;
const MAPPED_V4_HEX = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/** The IPv4 address an IPv4-mapped (or -translated) IPv6 address carries, else the address itself. */
function unmap(address: string): string {
  const dotted = MAPPED_V4.exec(address);
  if (dotted) return dotted[1];
  const hex = MAPPED_V4_HEX.exec(address);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}

/** True when `address` (a literal IPv4 or IPv6 address) must never be a webhook target. */
export function isForbiddenAddress(address: string): boolean {
  const bare = unmap(address.replace(/^\[|\]$/g, '').split('%')[0]);
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) return blocked.check(bare, 'ipv6');
  return true; // not an address at all: refuse rather than guess
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; issue: string };

/** Syntax and scheme (no DNS): https only, no credentials in the URL. */
export function checkUrlShape(raw: string, allowPrivate: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, issue: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return { ok: false, issue: allowPrivate ? 'must be http or https' : 'must be https' };
  if (url.username || url.password) return { ok: false, issue: 'must not carry credentials' };
  if (!url.hostname) return { ok: false, issue: 'must name a host' };
  return { ok: true, url };
}

export type Resolver = (host: string) => Promise<string[]>;

/**
 * Full check at creation: the shape, then every address the host resolves to (a literal address is its own
 * resolution). Send time checks again, per connection, through `guardedLookup`.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, resolve: Resolver): Promise<UrlCheck> {
  const shape = checkUrlShape(raw, allowPrivate);
  if (!shape.ok || allowPrivate) return shape;
  const host = shape.url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    return { ok: false, issue: 'host does not resolve' };
  }
  if (!addresses.length) return { ok: false, issue: 'host does not resolve' };
  const bad = addresses.find(isForbiddenAddress);
  if (bad) return { ok: false, issue: `resolves to a private, loopback, link-local or metadata address (${bad})` };
  return shape;
}
