import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterDatabase, startDatabase } from './database';
import { appDir, ClusterAgent, nodeBin, Replica } from './nodes';
import { freePort } from './ports';
import { isAlive, ManagedProcess, timeout } from './processes';
import { RoundRobinProxy } from './proxy';

export interface ClusterOptions {
  /** Names the run in its temp folder and summary. */
  name: string;
  /** API processes (default CLUSTER_REPLICAS or 3). */
  replicas?: number;
  /** Settings for every replica on top of the harness's (short background intervals, limits…). */
  env?: Record<string, string>;
}

/** Settings a production replica needs, generated once per run and shared by every replica of it. */
function productionSecrets(): Record<string, string> {
  return {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    KMS_MASTER_KEY: randomBytes(32).toString('base64'),
    API_KEY_PEPPER: randomBytes(48).toString('base64url'),
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    SETUP_TOKEN: randomBytes(24).toString('base64url'),
  };
}

/** Runs the one-off migration command of the deployment (scripts/migrate.js) against the database; bounded. */
async function migrate(databaseUrl: string, cwd: string): Promise<void> {
  const proc = new ManagedProcess('migrate', nodeBin(), [path.join(appDir(), 'scripts', 'migrate.js')], { cwd, env: { ...process.env, DATABASE_URL: databaseUrl } });
  const exit = await Promise.race([proc.exited, timeout(120_000)]);
  if (exit === 'timeout') {
    await proc.kill();
    throw new Error('migrations did not finish within 120 s');
  }
  if (exit.code !== 0) throw new Error(`migrations failed (${JSON.stringify(exit)}): ${proc.tail(10)}`);
}

/** The URL a replica uses: the run's database, with the replica's name as `application_name` (seen in pg_stat_activity). */
function urlFor(databaseUrl: string, name: string): string {
  const u = new URL(databaseUrl);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/**
 * N API replicas (the built app, NODE_ENV=production) on one PostgreSQL (embedded, owned by the harness, unless
 * CLUSTER_DATABASE_URL) and Redis when REDIS_URL is set, a round-robin proxy in front, and reference agents.
 * `dispose()` kills every process group it started, also after a failure, and reports any left alive.
 */
export class Cluster {
  readonly runId = randomBytes(6).toString('hex');
  readonly tempDir: string;
  readonly secrets = productionSecrets();
  readonly replicas: Replica[] = [];
  readonly agents: ClusterAgent[] = [];
  readonly redisUrl = process.env.REDIS_URL || undefined;
  db?: ClusterDatabase;
  proxy?: RoundRobinProxy;
  private baseEnv: Record<string, string> = {};

  private constructor(readonly options: ClusterOptions) {
    this.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), `countersign-cluster-${options.name}-`));
    // As root the embedded PostgreSQL runs as the `postgres` user, who must be able to traverse this folder.
    fs.chmodSync(this.tempDir, 0o711);
  }

  /** Starts the database, migrates it, starts the replicas (in parallel) and the proxy. On failure, cleans up and throws. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(options);
    try {
      await cluster.boot();
    } catch (error) {
      await cluster.dispose().catch(() => undefined);
      throw error;
    }
    return cluster;
  }

  private async boot(): Promise<void> {
    const count = this.options.replicas ?? Number(process.env.CLUSTER_REPLICAS ?? 3);
    this.db = await startDatabase(this.tempDir);
    await migrate(this.db.url, this.tempDir);
    this.baseEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? this.tempDir,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL: this.redisUrl ?? '',
      TRUST_PROXY: 'loopback',
      BCRYPT_COST: '4',
      DATABASE_POOL_SIZE: '8',
      SHUTDOWN_GRACE_SECONDS: '5',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      ...this.secrets,
      ...this.options.env,
    };
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    for (let i = 0; i < count; i++) {
      const name = `r${i + 1}`;
      const env = { ...this.baseEnv, PORT: String(ports[i]), DATABASE_URL: urlFor(this.db.url, name), PGAPPNAME: name, DATA_DIR: path.join(this.tempDir, name, 'data') };
      this.replicas.push(new Replica(name, ports[i], env, this.runId, path.join(this.tempDir, name)));
    }
    await Promise.all(this.replicas.map((r) => r.start()));
    this.proxy = new RoundRobinProxy(this.replicas.map((r) => ({ name: r.name, port: r.port })));
    await this.proxy.start();
  }

  get url(): string {
    if (!this.proxy) throw new Error('cluster not started');
    return this.proxy.url;
  }

  get database(): ClusterDatabase {
    if (!this.db) throw new Error('cluster not started');
    return this.db;
  }

  replica(name: string): Replica {
    const r = this.replicas.find((x) => x.name === name);
    if (!r) throw new Error(`no replica ${name}`);
    return r;
  }

  /** The replicas running and ready (a replica still starting is not in the list). */
  live(): Replica[] {
    return this.replicas.filter((r) => r.isReady);
  }

  async restartReplica(r: Replica): Promise<void> {
    await r.restart();
    this.proxy?.markUp(r.name);
  }

  /** A reference agent on `secretsDir`, enrolled with `enrollToken` at its first start (not started yet). */
  addAgent(name: string, enrollToken: string, secretsDir: string, extraArgs: string[] = []): ClusterAgent {
    const agent = new ClusterAgent(name, this.url, secretsDir, path.join(this.tempDir, 'agents', name), enrollToken, extraArgs);
    this.agents.push(agent);
    return agent;
  }

  /** Pids of this run's replica processes still alive (`pgrep -f` on the run's command-line marker). */
  orphans(): number[] {
    try {
      const out = execFileSync('pgrep', ['-f', `dist/src/main.js ${Replica.marker(this.runId)}`], { encoding: 'utf8' });
      return out.split('\n').filter(Boolean).map(Number).filter(isAlive);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  }

  /** Stops everything (kill -9 of every process group), then checks that nothing of the run is alive. */
  async dispose(): Promise<{ orphans: number[] }> {
    await Promise.allSettled(this.agents.map((a) => a.kill()));
    await Promise.allSettled(this.replicas.map((r) => r.kill()));
    await this.proxy?.stop().catch(() => undefined);
    await this.db?.dispose().catch(() => undefined);
    const agentPids = this.agents.map((a) => a.process?.pid).filter((p): p is number => !!p && isAlive(p));
    const orphans = [...this.orphans(), ...agentPids];
    if (process.env.CLUSTER_KEEP_TEMP !== '1') fs.rmSync(path.join(this.tempDir, 'pg'), { recursive: true, force: true });
    return { orphans };
  }

  /** Writes `summary` as JSON into the run's temp folder (kept after the run) and returns the file's path. */
  writeSummary(summary: unknown): string {
    const file = path.join(this.tempDir, `summary-${this.options.name}.json`);
    fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    return file;
  }
}
