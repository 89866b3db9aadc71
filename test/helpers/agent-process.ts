import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The real reference agent (`agent/main.ts`) in a child process, run through ts-node (transpile-only) so a test does
 * not depend on a prior `nest build`. Collects stdout/stderr for assertions.
 */
export class AgentProcess {
  readonly child: ChildProcess;
  private out = '';
  private err = '';
  readonly exited: Promise<AgentExit>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'agent/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: resolve(ROOT, 'tsconfig.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk));
    this.exited = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal })));
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The parsed JSON log lines so far. */
  logs(): Record<string, unknown>[] {
    return this.out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return { unparsed: l };
        }
      });
  }

  /** Resolves with the first log line whose `msg` matches; rejects on timeout or if the agent exits first. */
  async waitForLog(msg: string | RegExp, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs().find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
      if (hit) return hit;
      if (!this.running) throw new Error(`agent exited before logging "${msg}":\n${this.out}\n${this.err}`);
      if (Date.now() > deadline) throw new Error(`agent did not log "${msg}" within ${timeoutMs} ms:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends `signal` and waits for the exit; reports how long it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<AgentExit & { ms: number }> {
    const started = Date.now();
    if (this.running) this.child.kill(signal);
    const exit = await Promise.race([
      this.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`agent did not exit within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    return { ...exit, ms: Date.now() - started };
  }

  /** For afterAll: make sure nothing outlives the test. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
