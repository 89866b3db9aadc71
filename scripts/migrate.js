#!/usr/bin/env node
// One-off migration run: applies the built migrations (dist/) to DATABASE_URL and exits. This is the command of the
// migration Job (deploy/kubernetes), of the `migrate` service (docker-compose.yml) and of the cluster harness: it
// runs before the API replicas roll out. It uses the app's own runner (src/common/db/migration-runner.ts): the same
// migrations, each in its own transaction, under the same PostgreSQL advisory lock that every replica takes at start,
// so a replica starting meanwhile waits for this run and then finds the schema up to date.
//
//   DATABASE_URL=postgres://… node scripts/migrate.js       (after `npm run build`; the image has dist/ built)
//
// Exit codes: 0 applied or up to date, 1 a migration or the connection failed, 2 DATABASE_URL missing or dist/ absent.
// Output: one JSON line on stdout (success) or stderr (failure), like the server's log lines.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const runner = path.join(root, 'dist', 'src', 'common', 'db', 'migration-runner.js');
const dotenv = path.join(root, 'dist', 'src', 'config', 'dotenv.js');

function log(stream, level, msg, fields = {}) {
  stream.write(`${JSON.stringify({ time: Date.now(), level, msg, ...fields })}\n`);
}

async function main() {
  if (!fs.existsSync(runner)) {
    log(process.stderr, 'error', `${path.relative(root, runner)} is missing: build first (npm run build)`);
    return 2;
  }
  // Like the server: ./.env when present, real environment variables win.
  require(dotenv).loadDotEnv('.env', process.env);
  const url = process.env.DATABASE_URL;
  if (!url) {
    log(process.stderr, 'error', 'DATABASE_URL is not set: this command migrates an external PostgreSQL (the embedded one migrates at server start)');
    return 2;
  }
  const started = Date.now();
  try {
    const applied = await require(runner).runMigrations(url);
    const msg = applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date';
    log(process.stdout, 'info', msg, { applied, duration_ms: Date.now() - started });
    return 0;
  } catch (error) {
    log(process.stderr, 'error', `migration failed: ${error instanceof Error ? error.message : String(error)}`, { duration_ms: Date.now() - started });
    return 1;
  }
}

main().then((code) => process.exit(code));
