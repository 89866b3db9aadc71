import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The built server as users run it (`node scripts/start.js`, `npm start`), each scenario on a temp DATA_DIR with its
 * own embedded PostgreSQL: crash and restart, a second start on the same data, SIGTERM through npm and Ctrl-C (SIGINT
 * to the whole process group) with a request in flight. Linux only (/proc).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const READY_MS = 90_000;
jest.setTimeout(300_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or undefined after `ms` (the timer is cleared either way, so nothing keeps jest alive). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, pollMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  args: string[];
}

/** Every process of the machine (from /proc), zombies excluded. */
function processes(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid), state, args });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Postmasters serving `<dataDir>/pg` (what `pgrep -f <clusterdir>` finds). */
function postgresOf(dataDir: string): number[] {
  const cluster = path.join(fs.realpathSync(dataDir), 'pg');
  return processes()
    .filter((p) => p.args.includes(cluster))
    .map((p) => p.pid);
}

/** Processes under `pid` (any depth) running dist/src/main.js: the server behind a wrapper. */
function serversUnder(pid: number): number[] {
  const all = processes();
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const p of all.filter((q) => q.ppid === parent)) {
      if (p.args.some((a) => a.endsWith(path.join('dist', 'src', 'main.js')))) found.push(p.pid);
      walk(p.pid);
    }
  };
  walk(pid);
  return found;
}

interface Run {
  proc: ChildProcess;
  base: string;
  output: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): boolean;
}

interface Instance {
  dataDir: string;
  port: number;
  pgPort: number;
}

const runs: Run[] = [];
const dataDirs: string[] = [];

async function instance(): Promise<Instance> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-lifecycle-'));
  dataDirs.push(dataDir);
  return { dataDir, port: await freePort(), pgPort: await freePort() };
}

/**
 * Starts the built server through `node scripts/start.js` or `npm start`, in a process group of its own (as a shell
 * gives a foreground job), so a signal to the group imitates Ctrl-C in a terminal.
 */
function launch(how: 'wrapper' | 'npm', at: Instance): Run {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: at.dataDir,
    PORT: String(at.port),
    EMBEDDED_PG_PORT: String(at.pgPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_SECONDS: '60',
    BCRYPT_COST: '4',
    // Set and empty: real environment variables win over a developer's .env.
    DATABASE_URL: '',
    REDIS_URL: '',
    npm_config_update_notifier: 'false',
  };
  const [command, args] = how === 'npm' ? ['npm', ['start', '--', '--no-build']] : [process.execPath, [path.join('scripts', 'start.js'), '--no-build']];
  const proc = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const run = { proc, base: `http://127.0.0.1:${at.port}`, output, exit, exited: () => done };
  runs.push(run);
  return run;
}

const tail = (run: Run) => run.output.slice(-25).join('\n');

async function ready(run: Run): Promise<void> {
  await waitFor(
    'the server to be ready',
    async () => {
      if (run.exited()) throw new Error(`the server exited before it was ready:\n${tail(run)}`);
      try {
        return (await fetch(`${run.base}/readyz`, { signal: AbortSignal.timeout(10_000) })).status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    READY_MS,
  );
}

async function exitOf(run: Run, timeoutMs = 90_000) {
  const result = await within(run.exit, timeoutMs);
  if (!result) throw new Error(`still running after ${timeoutMs / 1000} s:\n${tail(run)}`);
  return result;
}

async function json(base: string, method: string, pathname: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${pathname}`, {
    method,
    signal: AbortSignal.timeout(30_000),
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
}

const admin = { email: 'owner@example.com', password: 'correct horse battery', name: 'Owner' };

/**
 * A POST whose headers go out at once (with `Expect: 100-continue`: the server answers "100 Continue" when it has
 * taken the request in, i.e. counted it in flight) and whose body follows only when `finish()` trickles it, in chunks
 * over about two seconds.
 */
function trickledPost(base: string, pathname: string, payload: unknown) {
  const body = Buffer.from(JSON.stringify(payload));
  const req = http.request(`${base}${pathname}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' },
  });
  const accepted = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  const finish = async () => {
    const pieces = 5;
    const size = Math.ceil(body.length / pieces);
    for (let i = 0; i < pieces; i++) {
      req.write(body.subarray(i * size, (i + 1) * size));
      await sleep(450);
    }
    req.end();
  };
  return { accepted, response, finish };
}

/** A stop request while a request is in flight: it completes, the process exits 0, nothing is left running. */
async function drainScenario(run: Run, at: Instance, stop: () => void) {
  await ready(run);
  const [server] = serversUnder(run.proc.pid!);
  expect(server).toBeDefined();
  expect(postgresOf(at.dataDir)).toHaveLength(1);

  const slow = trickledPost(run.base, '/api/v1/auth/setup', admin);
  await slow.accepted;
  stop();
  // The drain has begun (readiness off) before the body is even complete.
  await waitFor('readiness to turn off', async () => ((await fetch(`${run.base}/readyz`, { signal: AbortSignal.timeout(10_000) })).status === 503 ? true : undefined), 30_000);
  await slow.finish();
  const res = await slow.response;
  expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toMatchObject({ status: 201, body: { user: { email: admin.email } } });

  expect(await exitOf(run)).toEqual({ code: 0, signal: null });
  expect(processes().some((p) => p.pid === server)).toBe(false);
  expect(postgresOf(at.dataDir)).toEqual([]);
  expect(fs.existsSync(path.join(at.dataDir, 'countersign.pid'))).toBe(false);
  expect(run.output.filter((l) => l.includes('shutdown: readiness off'))).toHaveLength(1);
  expect(run.output.join('\n')).not.toMatch(/drain cut short|terminating connection due to administrator command/);
}

beforeAll(() => {
  if (!fs.existsSync(MAIN)) {
    throw new Error(`process-lifecycle tests run the built server, and ${path.relative(ROOT, MAIN)} is missing: run \`npx nest build\` first`);
  }
});

afterEach(async () => {
  // Whatever a failed scenario left in a run's process group (a wrapper outliving npm, a server) is stopped.
  for (const run of runs.splice(0)) {
    const pgid = run.proc.pid!;
    const members = () => processes().filter((p) => p.pgid === pgid);
    if (members().length > 0) {
      process.kill(-pgid, 'SIGTERM');
      await waitFor('a test run to stop', () => (members().length === 0 ? true : undefined), 60_000).catch(() => process.kill(-pgid, 'SIGKILL'));
    }
    run.proc.stdout?.destroy();
    run.proc.stderr?.destroy();
  }
  for (const dir of dataDirs.splice(0)) {
    // A crash scenario that failed may leave its PostgreSQL behind: fast shutdown, then the folder goes.
    for (const pid of postgresOf(dir)) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* gone */
      }
    }
    await waitFor('leftover PostgreSQL to stop', () => (postgresOf(dir).length === 0 ? true : undefined), 60_000).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('process lifecycle of the built server (e2e)', () => {
  it('after kill -9 of the server, a new start on the same data is ready with the data intact and the audit chain verified', async () => {
    const at = await instance();
    const first = launch('wrapper', at);
    await ready(first);
    expect((await json(first.base, 'POST', '/api/v1/auth/setup', admin)).status).toBe(201);
    const [server] = serversUnder(first.proc.pid!);
    process.kill(server, 'SIGKILL');
    expect(await exitOf(first)).toEqual({ code: 137, signal: null }); // the wrapper exits with the server's status
    expect(postgresOf(at.dataDir)).toHaveLength(1); // the embedded PostgreSQL outlived it

    const second = launch('wrapper', at);
    await ready(second);
    expect(second.output.join('\n')).toContain('stopped an embedded PostgreSQL left running by a previous server');
    expect((await json(second.base, 'GET', '/api/v1/auth/setup-status')).body).toEqual({ setup_required: false });
    const login = await json(second.base, 'POST', '/api/v1/auth/login', { email: admin.email, password: admin.password });
    expect(login.status).toBe(200);
    const verify = await json(second.base, 'GET', '/api/v1/audit-events/verify', undefined, login.body.access_token as string);
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ verified: true, first_invalid_id: null });

    process.kill(second.proc.pid!, 'SIGTERM');
    expect(await exitOf(second)).toEqual({ code: 0, signal: null });
    expect(postgresOf(at.dataDir)).toEqual([]);
  });

  it('a second start on the same DATA_DIR exits 1 saying Countersign already runs there (and which pid); the first is unaffected', async () => {
    const at = await instance();
    const first = launch('wrapper', at);
    await ready(first);
    const [server] = serversUnder(first.proc.pid!);

    const second = launch('wrapper', { ...at, port: await freePort(), pgPort: await freePort() });
    expect(await exitOf(second)).toEqual({ code: 1, signal: null });
    expect(second.output).toContain(`Countersign is already running on ${path.resolve(at.dataDir)} (pid ${server})`);

    expect((await fetch(`${first.base}/readyz`, { signal: AbortSignal.timeout(30_000) })).status).toBe(200);
    expect((await json(first.base, 'GET', '/api/v1/auth/setup-status')).body).toEqual({ setup_required: true });
    expect(postgresOf(at.dataDir)).toHaveLength(1);
    process.kill(first.proc.pid!, 'SIGTERM');
    expect(await exitOf(first)).toEqual({ code: 0, signal: null });
  });

  it('kill -TERM of `npm start` drains: the in-flight request completes, npm exits 0, no server or PostgreSQL is left', async () => {
    const at = await instance();
    const run = launch('npm', at);
    await drainScenario(run, at, () => process.kill(run.proc.pid!, 'SIGTERM'));
  });

  it('Ctrl-C (SIGINT to the whole process group of `npm start`) drains the same way; PostgreSQL is not cut under the request', async () => {
    const at = await instance();
    const run = launch('npm', at);
    await drainScenario(run, at, () => process.kill(-run.proc.pid!, 'SIGINT'));
  });
});
