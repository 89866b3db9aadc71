import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import { checkUrlShape, isForbiddenAddress } from './ssrf-guard';

export const RESPONSE_CAP_BYTES = 4096;
export const SEND_TIMEOUT_MS = 10_000;

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export class ForbiddenAddressError extends Error {
  readonly code = 'EWEBHOOKFORBIDDEN';
}

/**
 * A DNS lookup for the socket that refuses forbidden addresses: the address checked is the one connected to, so a
 * name that resolved to a public address at creation and to a private one now (DNS rebinding) is refused.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) return callback(new ForbiddenAddressError(`${hostname} resolves to a forbidden address (${bad.address})`), '', 0);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

/**
 * One POST: no redirect followed (a 3xx is a failure), at most `RESPONSE_CAP_BYTES` of the response read, the whole
 * exchange bounded by `SEND_TIMEOUT_MS`. Without `allowPrivate`, https only and every connected address checked.
 */
export function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, allowPrivate: boolean, signal?: AbortSignal): Promise<SendResult> {
  const shape = checkUrlShape(rawUrl, allowPrivate);
  if (!shape.ok) return Promise.resolve({ ok: false, statusCode: null, error: `url ${shape.issue}` });
  const url = shape.url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) && isForbiddenAddress(host)) return Promise.resolve({ ok: false, statusCode: null, error: `forbidden address ${host}` });
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Countersign-Webhooks/1', 'content-length': Buffer.byteLength(body).toString(), ...headers },
        agent: false,
        ...(allowPrivate ? {} : { lookup: guardedLookup }),
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= RESPONSE_CAP_BYTES) res.destroy();
        });
        const finish = () => {
          if (status >= 200 && status < 300) done({ ok: true, statusCode: status, error: null });
          else done({ ok: false, statusCode: status, error: status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}` });
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`timeout after ${SEND_TIMEOUT_MS} ms`));
    }, SEND_TIMEOUT_MS);
    req.on('error', (e) => done({ ok: false, statusCode: null, error: e.message }));
    req.end(body);
  });
}
