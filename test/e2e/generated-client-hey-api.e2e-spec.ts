import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { walk } from '../generated/hey-api-walk';
import { createTestApp, TestApp } from '../helpers/test-app';

// A second generator family: @hey-api/openapi-ts generates a full SDK (types, one function per operation, a fetch
// client) from the live /openapi.json (test/generated/generate-hey-api.js, in a child process: the package is ESM-only).
// The SDK must equal the checked-in copy, compile with `strict` together with a client program written against it
// (test/generated/hey-api-walk.ts), and that program, run through the checked-in SDK, must walk the API.

const ROOT = path.resolve(__dirname, '../..');
const GENERATOR = path.join(ROOT, 'test/generated/generate-hey-api.js');
const CHECKED_IN = path.join(ROOT, 'test/generated/hey-api');
const PROGRAM = path.join(ROOT, 'test/generated/hey-api-walk.ts');
const GLOBALS = path.join(ROOT, 'test/generated/fetch-globals.d.ts');
const REGENERATE = 'UPDATE_GENERATED=1 npx jest test/e2e/generated-client-hey-api';

function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(path.join(dir, prefix))) return [];
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(prefix, e.name)) : [path.join(prefix, e.name)]))
    .sort();
}

/** Type-checks the program and the generated SDK as this repository compiles them (strict, Node's types, no DOM lib). */
function typeCheck(dir: string): string[] {
  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules/@types')],
    ignoreDeprecations: '6.0',
    skipLibCheck: false,
  };
  // Every generated file goes in as a source file, so the SDK is checked in full, not only what the program touches.
  const files = [path.join(dir, 'hey-api-walk.ts'), ...listFiles(path.join(dir, 'hey-api')).map((f) => path.join(dir, 'hey-api', f))];
  const program = ts.createProgram(files, options);
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
  return ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, host));
}

describe('Generated SDK, @hey-api/openapi-ts (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;
  let tmp: string;

  beforeAll(async () => {
    t = await createTestApp();
    await new Promise<void>((r) => t.http.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-hey-api-'));
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('generates an SDK from /openapi.json that equals the checked-in copy, and a strict client program compiles against it', async () => {
    const res = await fetch(`${baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    fs.writeFileSync(path.join(tmp, 'openapi.json'), await res.text());
    const fresh = path.join(tmp, 'hey-api');
    await promisify(execFile)(process.execPath, [GENERATOR, path.join(tmp, 'openapi.json'), fresh], { cwd: ROOT });
    const files = listFiles(fresh);
    expect(files).toEqual(expect.arrayContaining(['index.ts', 'sdk.gen.ts', 'types.gen.ts', path.join('client', 'client.gen.ts')]));
    expect(fs.readFileSync(path.join(fresh, 'sdk.gen.ts'), 'utf8')).toContain("url: '/api/v1/workspaces/{id}/environments'");

    if (process.env.UPDATE_GENERATED === '1') {
      fs.rmSync(CHECKED_IN, { recursive: true, force: true });
      fs.cpSync(fresh, CHECKED_IN, { recursive: true });
    }
    const drift = [...new Set([...files, ...listFiles(CHECKED_IN)])].filter((f) => {
      const a = path.join(fresh, f);
      const b = path.join(CHECKED_IN, f);
      return !fs.existsSync(a) || !fs.existsSync(b) || fs.readFileSync(a, 'utf8') !== fs.readFileSync(b, 'utf8');
    });
    if (drift.length) {
      throw new Error(`test/generated/hey-api/ is out of date with /openapi.json (the API changed): ${drift.join(', ')}. Regenerate it with:\n\n  ${REGENERATE}\n\nand commit the diff.`);
    }

    fs.copyFileSync(PROGRAM, path.join(tmp, 'hey-api-walk.ts'));
    fs.copyFileSync(GLOBALS, path.join(tmp, 'fetch-globals.d.ts'));
    expect(typeCheck(tmp)).toEqual([]);
  });

  it('setup → login → workspace → environment → agent reports a secret → draft request → list → a 404 ErrorEnvelope, through the SDK', async () => {
    const result = await walk(baseUrl);
    expect(result.workspaces.map((w) => w.slug)).toEqual(['sdk-payments']);
    expect(result.request).toMatchObject({ type: 'secret.rotate', status: 'draft', title: 'Rotate the SDK db password', workspace_id: result.workspaces[0].id });
    expect(result.request.id).toMatch(/^req_/);
    expect(result.missingStatus).toBe(404);
    expect(result.missingCode).toBe('NOT_FOUND');
  });
});
