#!/usr/bin/env node
// Writes src/common/db/schema.generated.ts: one interface per table of the migrated schema. Runs every migration on a
// scratch database (on the server of DATABASE_URL, or an embedded PostgreSQL in a temp folder when it is unset), reads
// pg_catalog, writes the file and drops the database. `--check` writes nothing and exits 1 when the committed file
// differs (the medium test test/medium/row-types.medium-spec.ts checks the same on every test run).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
require('ts-node').register({ project: path.join(root, 'tsconfig.json'), transpileOnly: true });
const { GENERATED_PATH, generateFromMigrations } = require('./lib/row-types.ts');

async function main() {
  const check = process.argv.includes('--check');
  let adminUrl = process.env.DATABASE_URL;
  let embedded;
  let dir;
  if (!adminUrl) {
    const { EmbeddedDatabase } = require('../src/common/db/embedded-postgres.ts');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-rowtypes-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    embedded = await EmbeddedDatabase.start({ clusterDir: path.join(dir, 'pg'), port, database: 'postgres' });
    adminUrl = embedded.adminUrl;
  }
  try {
    const text = await generateFromMigrations(adminUrl);
    const target = path.join(root, GENERATED_PATH);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (check) {
      if (current !== text) {
        console.error(`${GENERATED_PATH} is out of date with the migrations: run node scripts/generate-row-types.js`);
        process.exitCode = 1;
      }
      return;
    }
    if (current === text) console.log(`${GENERATED_PATH} is up to date`);
    else {
      fs.writeFileSync(target, text);
      console.log(`wrote ${GENERATED_PATH}`);
    }
  } finally {
    if (embedded) await embedded.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
