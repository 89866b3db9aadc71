'use strict';
// The "what the hardware can do" line: a bare node:http server that answers GET /workspaces/:id with the same JSON
// the API returns, after one SELECT by primary key through `pg` on the same embedded database. No framework, no
// auth, no validation, no logging. Started by bench/run.js as a child process (so it does not share an event loop
// with the load generator); env: PORT, DATABASE_URL, POOL_SIZE.
const http = require('node:http');
const { Pool } = require('pg');

const port = Number(process.env.PORT);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE || 10) });
const SQL = 'SELECT id, tenant_id, slug, display_name, capabilities, status, created_at, updated_at FROM workspaces WHERE id = $1';

const server = http.createServer((req, res) => {
  const match = /^\/workspaces\/([^/?]+)$/.exec(req.url || '');
  if (req.method !== 'GET' || !match) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    return;
  }
  pool.query(SQL, [decodeURIComponent(match[1])]).then(
    ({ rows: [w] }) => {
      if (!w) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      const body = JSON.stringify({
        id: w.id,
        tenant_id: w.tenant_id,
        slug: w.slug,
        display_name: w.display_name,
        capabilities: w.capabilities,
        status: w.status,
        created_at: w.created_at.toISOString(),
        updated_at: w.updated_at.toISOString(),
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
    },
    (error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message })),
  );
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on 127.0.0.1:${port}\n`));

const stop = () => {
  server.close();
  server.closeAllConnections?.();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
