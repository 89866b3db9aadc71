#!/usr/bin/env node
// Lints the OpenAPI document of a running server with Redocly: `npm run openapi:lint [-- http://localhost:8000]`.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const base = process.argv[2] ?? 'http://localhost:8000';
(async () => {
  const res = await fetch(`${base}/openapi.json`);
  if (!res.ok) throw new Error(`GET ${base}/openapi.json → ${res.status}`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-openapi-')), 'openapi.json');
  fs.writeFileSync(file, await res.text());
  const run = spawnSync('npx', ['--yes', '@redocly/cli@2', 'lint', file], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
