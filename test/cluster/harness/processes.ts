import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';

/** Every process group the harness started in this jest worker: killed on `exit` even when afterAll never runs. */
const groups = new Set<number>();
process.once('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value; throws after `timeoutMs` (every wait of the harness has a deadline). */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what}: not reached within ${timeoutMs} ms${why}`);
    }
    await sleep(everyMs);
  }
}

/** A promise that settles after `ms` without keeping the process alive. */
export const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process in a process group of its own (so a kill reaches whatever it started), its output kept as lines
 * (the last `keep` plus every line `isError` flags).
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  readonly lines: string[] = [];
  readonly errorLines: string[] = [];
  exit: ExitInfo | null = null;
  /** Told every complete output line (set right after construction; output arrives asynchronously). */
  onLine?: (line: string) => void;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
    options: SpawnOptions,
    private readonly isError: (line: string) => boolean = () => false,
    private readonly keep = 400,
    /** Every line is also appended here (kept after the run for diagnosis). */
    private readonly logFile?: string,
  ) {
    this.child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid) groups.add(pid);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        if (pid) groups.delete(pid);
        resolve(this.exit);
      });
      // A process that could not be spawned never exits: it counts as exited at once.
      this.child.once('error', (error) => {
        this.push(`spawn error: ${error.message}`);
        if (this.child.pid === undefined) resolve((this.exit = { code: -1, signal: null }));
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let buffer = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        for (const line of parts) if (line.trim()) this.push(line);
      });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === null;
  }

  private push(line: string): void {
    this.onLine?.(line);
    if (this.logFile) appendFileSync(this.logFile, `${line}\n`);
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    if (this.isError(line) && this.errorLines.length < 200) this.errorLines.push(line);
  }

  /** Signals the whole process group. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || !this.child.pid) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      /* exited meanwhile */
    }
  }

  /** SIGKILL to the group; resolves once it has exited (bounded). */
  async kill(): Promise<ExitInfo | null> {
    this.signal('SIGKILL');
    const result = await Promise.race([this.exited, timeout(10_000)]);
    if (result === 'timeout') throw new Error(`${this.label} (pid ${this.pid}) did not exit within 10 s of SIGKILL`);
    return result;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 10_000): Promise<ExitInfo | null> {
    if (!this.running) return this.exit;
    this.signal('SIGCONT'); // a paused process cannot act on SIGTERM
    this.signal('SIGTERM');
    const result = await Promise.race([this.exited, timeout(graceMs)]);
    if (result !== 'timeout') return result;
    return this.kill();
  }

  tail(n = 20): string {
    return this.lines.slice(-n).join('\n');
  }
}

/** Whether a pid is alive (and not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
