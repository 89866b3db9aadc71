import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { version } from '../../package.json';
import { buildOpenApiDocument } from '../../src/common/http/openapi';
import { createTestApp, TestApp } from '../helpers/test-app';

type Problem = { ruleId: string; severity: 'error' | 'warn'; message: string; location?: { pointer?: string }[] };

const ROOT = path.resolve(__dirname, '../..');
const REDOCLY = path.join(ROOT, 'node_modules/.bin/redocly');

/**
 * Lints the document the app generates with Redocly (`redocly.yaml`: recommended-strict plus our rules).
 * `OPENAPI_OUT=/some/file.json` keeps a copy of the document for inspection.
 */
describe('OpenAPI document lint (Redocly, e2e)', () => {
  let t: TestApp;
  let file: string;

  beforeAll(async () => {
    t = await createTestApp();
    const document = buildOpenApiDocument(t.app, version);
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-openapi-')), 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(document, null, 2));
    if (process.env.OPENAPI_OUT) fs.copyFileSync(file, process.env.OPENAPI_OUT);
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('has no Redocly problems under the committed strict config', () => {
    const run = spawnSync(REDOCLY, ['lint', '--config', path.join(ROOT, 'redocly.yaml'), '--format=json', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const start = run.stdout.indexOf('{');
    expect(start).toBeGreaterThanOrEqual(0);
    const { problems } = JSON.parse(run.stdout.slice(start)) as { problems: Problem[] };
    const describe = (p: Problem) => `${p.severity} ${p.ruleId}: ${p.message} @ ${p.location?.[0]?.pointer ?? '?'}`;
    const warnings = problems.filter((p) => p.severity === 'warn');
    if (warnings.length > 0) process.stdout.write(`Redocly warnings (${warnings.length}):\n${warnings.map(describe).join('\n')}\n`);
    expect(problems.filter((p) => p.severity === 'error').map(describe)).toEqual([]);
    expect(warnings.map(describe)).toEqual([]);
  });
});
