'use strict';
/** Small HTTP helpers for seeding and checks (fetch over loopback, bounded). */
const { HOST } = require('../../scripts/lib/harness');

async function request(port, method, urlPath, { body, headers = {} } = {}) {
  const res = await fetch(`http://${HOST}:${port}${urlPath}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, bytes: Buffer.byteLength(text), text };
}

async function expectOk(port, method, urlPath, opts) {
  const res = await request(port, method, urlPath, opts);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${urlPath} → ${res.status} ${res.text.slice(0, 500)}`);
  return res.json;
}

module.exports = { request, expectOk };
