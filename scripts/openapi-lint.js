#!/usr/bin/env node
// Lints the OpenAPI document of a running server with Redocly (redocly.yaml): `npm run openapi:lint [-- http://localhost:8000]`.
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
  // The pinned devDependency and the committed config: the same lint as test/e2e/openapi-lint.e2e-spec.ts.
  const root = path.resolve(__dirname, '..');
  const redocly = path.join(root, 'node_modules', '.bin', 'redocly');
  const run = spawnSync(redocly, ['lint', '--config', path.join(root, 'redocly.yaml'), file], { stdio: 'inherit', cwd: root });
  process.exit(run.status ?? 1);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
