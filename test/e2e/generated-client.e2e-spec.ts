import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import createClient from 'openapi-fetch';
import ts from 'typescript';
import type { components, paths } from '../../agent/generated/countersign-api';
import { ADMIN } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

// "A generated OpenAPI client works against /openapi.json unchanged": openapi-typescript generates types from the live
// document (test/generated/generate.js, run in a child process: its dependencies are ESM-only and Jest's CommonJS
// runtime cannot require them on Node 20), a client program is type-checked against them with the compiler API, and
// openapi-fetch (CommonJS build, loads under ts-jest) walks the API with calls typed by the checked-in copy.

const ROOT = path.resolve(__dirname, '../..');
const GENERATOR = path.join(ROOT, 'test/generated/generate.js');
const CHECKED_IN = path.join(ROOT, 'agent/generated/countersign-api.d.ts');
const REGENERATE = 'UPDATE_GENERATED=1 npx jest test/e2e/generated-client';

type Schemas = components['schemas'];

/** A small program written as a client author would; it must compile (strict) against freshly generated types. */
const CLIENT_PROGRAM = `
import createClient from 'openapi-fetch';
import type { components, paths } from './countersign-api';

type Schemas = components['schemas'];

export async function walk(baseUrl: string): Promise<Schemas['EnvironmentDto'] | undefined> {
  const api = createClient<paths>({ baseUrl });
  const status = await api.GET('/api/v1/auth/setup-status');
  const setupRequired: boolean | undefined = status.data?.setup_required;
  if (setupRequired) {
    const setup = await api.POST('/api/v1/auth/setup', { body: { email: 'a@example.com', password: 'a long password', name: 'A' } });
    const adminFlag: boolean | undefined = setup.data?.user.is_platform_admin;
    void adminFlag;
  }
  const login = await api.POST('/api/v1/auth/login', { body: { email: 'a@example.com', password: 'a long password' } });
  if (!login.data) return undefined;
  const tokenType: 'bearer' = login.data.token_type;
  void tokenType;
  const headers = { Authorization: 'Bearer ' + login.data.access_token };
  const ws = await api.POST('/api/v1/workspaces', { headers, body: { slug: 'payments', display_name: 'Payments' } });
  if (!ws.data) return undefined;
  const wsStatus: 'active' | 'deleted' = ws.data.status;
  void wsStatus;
  const got = await api.GET('/api/v1/workspaces/{id}', { headers, params: { path: { id: ws.data.id } } });
  const capabilities: string[] | undefined = got.data?.capabilities;
  void capabilities;
  const env = await api.POST('/api/v1/workspaces/{id}/environments', { headers, params: { path: { id: ws.data.id } }, body: { name: 'prod', protected: true } });
  const page = await api.GET('/api/v1/workspaces', { headers, params: { query: { limit: 2, cursor: undefined, status: 'active' } } });
  const next: string | null | undefined = page.data?.pagination.next_cursor;
  void next;
  const missing = await api.GET('/api/v1/workspaces/{id}', { headers, params: { path: { id: 'wsp_missing' } } });
  const code: string | undefined = missing.error?.error.code;
  void code;

  // The types are not 'any': each of these must be a compile error.
  // @ts-expect-error SetupDto requires a password
  await api.POST('/api/v1/auth/setup', { body: { email: 'a@example.com', name: 'A' } });
  // @ts-expect-error the path parameter is {id}
  await api.GET('/api/v1/workspaces/{id}', { params: { path: { workspace: 'x' } } });
  // @ts-expect-error no such path
  await api.GET('/api/v1/no-such-route');
  // @ts-expect-error status is an enum
  await api.GET('/api/v1/workspaces', { params: { query: { status: 'archived' } } });
  // @ts-expect-error WorkspaceDto has no 'name'
  void ws.data.name;
  return env.data;
}
`;

/** Type-checks the client program against the generated types; returns formatted diagnostics (empty: it compiles). */
function typeCheck(dir: string): string[] {
  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules/@types')],
    // The temp dir has no node_modules: point the one bare import at the installed package.
    paths: { 'openapi-fetch': [path.join(ROOT, 'node_modules/openapi-fetch/dist/index.d.cts')] },
    ignoreDeprecations: '6.0',
    skipLibCheck: false,
  };
  // The generated types go in as a .ts source file, so they are checked in full like the program that uses them.
  const program = ts.createProgram([path.join(dir, 'client.ts'), path.join(dir, 'countersign-api.ts')], options);
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
  return ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, host));
}

describe('Generated OpenAPI client (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;
  let tmp: string;

  beforeAll(async () => {
    t = await createTestApp();
    await new Promise<void>((r) => t.http.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-client-'));
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('generates types from /openapi.json that equal the checked-in copy, and a strict client program compiles against them', async () => {
    const res = await fetch(`${baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    fs.writeFileSync(path.join(tmp, 'openapi.json'), await res.text());
    const generated = path.join(tmp, 'countersign-api.ts');
    await promisify(execFile)(process.execPath, [GENERATOR, path.join(tmp, 'openapi.json'), generated]);
    const fresh = fs.readFileSync(generated, 'utf8');
    expect(fresh).toContain('export interface paths');
    expect(fresh).toContain('"/api/v1/workspaces/{id}/environments"');

    if (process.env.UPDATE_GENERATED === '1') fs.writeFileSync(CHECKED_IN, fresh);
    const checkedIn = fs.existsSync(CHECKED_IN) ? fs.readFileSync(CHECKED_IN, 'utf8') : '';
    if (fresh !== checkedIn) {
      throw new Error(`agent/generated/countersign-api.d.ts is out of date with /openapi.json (the API changed). Regenerate it with:\n\n  ${REGENERATE}\n\n(or, from a running server: node test/generated/generate.js http://localhost:8000/openapi.json) and commit the diff.`);
    }

    fs.writeFileSync(path.join(tmp, 'client.ts'), CLIENT_PROGRAM);
    expect(typeCheck(tmp)).toEqual([]);
  });

  it('walks setup → login → workspace → environment → paginated list → a 404 ErrorEnvelope through openapi-fetch', async () => {
    const api = createClient<paths>({ baseUrl });

    const status = await api.GET('/api/v1/auth/setup-status');
    expect(status.response.status).toBe(200);
    expect(status.data).toEqual({ setup_required: true });

    const setup = await api.POST('/api/v1/auth/setup', { body: ADMIN });
    expect(setup.response.status).toBe(201);
    expect(setup.data?.user).toMatchObject({ email: ADMIN.email, name: ADMIN.name, is_platform_admin: true, status: 'active' });
    expect(setup.data?.tenant).toMatchObject({ slug: 'default', status: 'active' });
    expect((await api.GET('/api/v1/auth/setup-status')).data?.setup_required).toBe(false);

    const login = await api.POST('/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
    expect(login.response.status).toBe(200);
    expect(login.error).toBeUndefined();
    expect(login.data).toMatchObject({ token_type: 'bearer', user: { id: setup.data?.user.id, email: ADMIN.email } });
    expect(login.data?.expires_in).toBeGreaterThan(0);
    const headers = { Authorization: `Bearer ${login.data?.access_token}` };

    const created = await api.POST('/api/v1/workspaces', { headers, body: { slug: 'payments', display_name: 'Payments', capabilities: ['kubernetes-secrets'] } });
    expect(created.response.status).toBe(201);
    const ws: Schemas['WorkspaceDto'] | undefined = created.data;
    if (!ws) throw new Error(`create workspace: ${JSON.stringify(created.error)}`);
    expect(ws).toMatchObject({ slug: 'payments', display_name: 'Payments', status: 'active', capabilities: ['kubernetes-secrets'], tenant_id: setup.data?.tenant.id });
    expect(ws.id).toMatch(/^wsp_/);

    const got = await api.GET('/api/v1/workspaces/{id}', { headers, params: { path: { id: ws.id } } });
    expect(got.response.status).toBe(200);
    expect(got.data).toEqual(ws);

    const env = await api.POST('/api/v1/workspaces/{id}/environments', { headers, params: { path: { id: ws.id } }, body: { name: 'prod', protected: true } });
    expect(env.response.status).toBe(201);
    expect(env.data).toMatchObject({ workspace_id: ws.id, tenant_id: ws.tenant_id, name: 'prod', protected: true });
    expect(env.data?.id).toMatch(/^env_/);

    // Two more workspaces, then page through all three two at a time with the cursor the client hands back.
    for (const slug of ['billing', 'search']) {
      expect((await api.POST('/api/v1/workspaces', { headers, body: { slug, display_name: slug } })).response.status).toBe(201);
    }
    const slugs: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.GET('/api/v1/workspaces', { headers, params: { query: { limit: 2, cursor } } });
      expect(page.response.status).toBe(200);
      if (!page.data) throw new Error(`list workspaces: ${JSON.stringify(page.error)}`);
      expect(page.data.pagination.limit).toBe(2);
      expect(page.data.pagination.has_more).toBe(page.data.pagination.next_cursor !== null);
      slugs.push(...page.data.data.map((w) => w.slug));
      cursor = page.data.pagination.next_cursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(slugs.sort()).toEqual(['billing', 'payments', 'search']);

    const missing = await api.GET('/api/v1/workspaces/{id}', { headers, params: { path: { id: 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.data).toBeUndefined();
    const envelope: Schemas['ErrorEnvelope'] | undefined = missing.error;
    expect(envelope?.error).toMatchObject({ code: 'NOT_FOUND', request_id: missing.response.headers.get('x-request-id') });
    expect(typeof envelope?.error.message).toBe('string');
  });
});
