'use strict';
// The raw baseline: a bare node:http server with `pg` (pool of POOL_SIZE, like the app) on the same database. Serves
// GET /workspaces/:id (one SELECT by primary key: what the hardware can do with one query and no framework),
// GET /hello (no database), and the same-work routes of bench/baselines/same-work.js under the app's paths.
// Started by bench/run.js as a child process (its own event loop); env: PORT, DATABASE_URL, POOL_SIZE, JWT_SECRET,
// API_KEY_PEPPER, BASELINE_PRINCIPAL_CACHE_MS.
const http = require('node:http');
const { Pool } = require('pg');
const { readWorkspace } = require('./one-row');
const { ROUTES, workFromEnv } = require('./same-work');

const port = Number(process.env.PORT);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE || 10) });
const work = workFromEnv(pool);

function send(res, status, body) {
  if (body === undefined) return void res.writeHead(status).end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url || '/', 'http://x');
  const one = /^\/workspaces\/([^/?]+)$/.exec(url.pathname);
  if (req.method === 'GET' && one) {
    readWorkspace(pool, decodeURIComponent(one[1])).then(({ status, body }) => send(res, status, body), (e) => send(res, 500, { error: e.message }));
    return;
  }
  const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(url.pathname));
  if (!route) return void send(res, 404, { error: 'not found' });
  const match = route[1].exec(url.pathname);
  const params = Object.fromEntries(route[3].map((name, i) => [name, decodeURIComponent(match[i + 1])]));
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    } catch {
      return void send(res, 400, { error: 'bad json' });
    }
    work[route[2]]({ params, query: Object.fromEntries(url.searchParams), headers: req.headers, body }).then(
      (r) => send(res, r.status, r.body),
      (e) => send(res, e.status || 500, { error: { code: e.code || 'INTERNAL', message: e.message } }),
    );
  });
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`raw baseline listening on 127.0.0.1:${port}\n`));

const stop = () => {
  server.close();
  server.closeAllConnections?.();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
