// A real OpenID Provider (node-oidc-provider, ESM-only) for the OIDC e2e suite, run as a child process so Jest's
// CommonJS runtime never imports it. Prints one JSON line {"issuer": ...} once listening on a free loopback port.
//
// - Accounts and clients come from OIDC_TEST_CONFIG (JSON); accounts can be replaced while running
//   (PUT /__test/accounts), e.g. to take a group away between two sign-ins.
// - Login and consent: GET /interaction/:uid shows a form; POST /interaction/:uid with `login=<account id>` signs that
//   account in and grants the requested scopes (the test drives it with plain HTTP requests and cookies).
// - Tampering (PUT /__test/tamper {"aud"|"nonce"|"exp"|"iss"...}): the next token response's ID token gets those claims
//   replaced and is re-signed with the provider's own signing key, so the signature stays valid and only the client's
//   claim checks can refuse it. PUT /__test/tamper {"sign_with_other_key": true} signs it with a key not in the JWKS.
import http from 'node:http';
import { Provider } from 'oidc-provider';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? '{}');
let accounts = config.accounts ?? {};
let tamper = null;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(signingJwk, 'RS256');
const { privateKey: otherKey } = await generateKeyPair('RS256');

const front = http.createServer();
await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${front.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients ?? [],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['oidc-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  // Claims in the ID token itself (as most enterprise providers do), not only at the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  findAccount: (_ctx, id) => {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...account }) };
  },
  renderError: (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.proxy = false;
const handle = provider.callback();

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function interaction(req, res, uid) {
  if (req.method === 'GET') {
    const details = await provider.interactionDetails(req, res);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<form method="post" action="/interaction/${details.uid}"><input name="login"><button>Sign in</button></form>`);
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  const details = await provider.interactionDetails(req, res);
  const accountId = form.get('login');
  if (!accountId || !accounts[accountId]) return json(res, 400, { error: 'unknown account' });
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  void uid;
}

async function tamperedTokenResponse(req, res) {
  // Let the provider answer into a buffer, then rewrite its ID token.
  const chunks = [];
  const headers = {};
  let status = 200;
  const capture = new http.ServerResponse(req);
  capture.setHeader = (k, v) => { headers[k.toLowerCase()] = v; return capture; };
  capture.getHeader = (k) => headers[k.toLowerCase()];
  capture.getHeaders = () => ({ ...headers });
  capture.hasHeader = (k) => k.toLowerCase() in headers;
  capture.removeHeader = (k) => { delete headers[k.toLowerCase()]; };
  capture.writeHead = (s, h) => { status = s; if (h && typeof h === 'object') for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = v; return capture; };
  await new Promise((resolve) => {
    capture.write = (c) => { chunks.push(Buffer.from(c)); return true; };
    capture.end = (c) => { if (c) chunks.push(Buffer.from(c)); resolve(); return capture; };
    handle(req, capture);
  });
  if (capture.statusCode) status = capture.statusCode;
  let body = Buffer.concat(chunks).toString('utf8');
  if (status === 200) {
    const parsed = JSON.parse(body);
    if (parsed.id_token) {
      const { sign_with_other_key: otherKeyWanted, ...claims } = tamper;
      const payload = { ...decodeJwt(parsed.id_token), ...claims };
      const header = decodeProtectedHeader(parsed.id_token);
      parsed.id_token = await new SignJWT(payload).setProtectedHeader({ alg: header.alg, kid: header.kid, typ: header.typ }).sign(otherKeyWanted ? otherKey : signingKey);
      body = JSON.stringify(parsed);
    }
  }
  tamper = null;
  delete headers['content-length'];
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

front.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/__test/accounts' && req.method === 'PUT') {
      accounts = JSON.parse(await readBody(req));
      return json(res, 200, { ok: true });
    }
    if (url.pathname === '/__test/tamper' && req.method === 'PUT') {
      tamper = JSON.parse(await readBody(req));
      return json(res, 200, { ok: true });
    }
    const m = /^\/interaction\/([^/]+)$/.exec(url.pathname);
    if (m) return await interaction(req, res, m[1]);
    if (url.pathname === '/token' && req.method === 'POST' && tamper) return await tamperedTokenResponse(req, res);
    return handle(req, res);
  } catch (error) {
    if (!res.headersSent) json(res, 500, { error: String(error?.message ?? error) });
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => front.close(() => process.exit(0)));
