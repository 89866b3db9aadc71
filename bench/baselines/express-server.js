'use strict';
// The bare Express 5 baseline: the same routes and work as raw-server.js (bench/baselines/same-work.js), with
// Express's router and express.json() and nothing else (no logging, validation, guards or interceptors). Env as
// raw-server.js.
const express = require('express');
const { Pool } = require('pg');
const { readWorkspace } = require('./one-row');
const { ROUTES, workFromEnv } = require('./same-work');

const port = Number(process.env.PORT);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE || 10) });
const work = workFromEnv(pool);
const app = express();
app.disable('x-powered-by');
app.use(express.json());

const reply = (res, r) => (r.body === undefined ? res.status(r.status).end() : res.status(r.status).json(r.body));

app.get('/workspaces/:id', (req, res, next) => {
  readWorkspace(pool, req.params.id).then((r) => reply(res, r), next);
});
for (const [method, pattern, name] of ROUTES) {
  app[method.toLowerCase()](pattern, (req, res) => {
    const match = pattern.exec(req.path);
    const names = ROUTES.find((r) => r[2] === name)[3];
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
    work[name]({ params, query: req.query, headers: req.headers, body: req.body ?? {} }).then(
      (r) => reply(res, r),
      (e) => res.status(e.status || 500).json({ error: { code: e.code || 'INTERNAL', message: e.message } }),
    );
  });
}

const server = app.listen(port, '127.0.0.1', () => process.stdout.write(`express baseline listening on 127.0.0.1:${port}\n`));

const stop = () => {
  server.close();
  server.closeAllConnections?.();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
