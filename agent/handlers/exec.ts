/**
 * The `exec` handler: a plugin request type run by a command named in the agent's config file (SPEC §7).
 *
 * - The command is spawned without a shell, in its own process group, with the config file's folder as cwd.
 * - stdin: the job's `target` as one line of JSON.
 * - Environment: PATH and HOME, the entry's static `env`, `COUNTERSIGN_SETTING_<UPPER_SNAKE>` per setting, and
 *   `COUNTERSIGN_JOB_ID`, `COUNTERSIGN_REQUEST_ID`, `COUNTERSIGN_REQUEST_TYPE`, `COUNTERSIGN_ATTEMPT` (and
 *   `COUNTERSIGN_PLUGIN_ID` when the payload names one, as `plugin.test` jobs do); for a rollback
 *   also `COUNTERSIGN_ROLLBACK=1` and `COUNTERSIGN_ORIGINAL_RESULT` (JSON). Never the agent's own environment (it may
 *   hold the enrollment token).
 * - Exit 0 → `succeeded` with `{exit_code, output, result?}`; non-zero, a signal or the timeout (SIGTERM to the
 *   group, SIGKILL after a grace) → `failed` with an error made of the last lines of stderr (else stdout).
 * - Output is read into bounded tail buffers, and every setting value (strings and numbers of 4+ characters) is
 *   replaced by `***` in the output, the result and the error before anything leaves the process. Setting values
 *   are never logged.
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { ClaimedJob } from '../api-client';
import { ExecEntry } from '../config-file';
import { JobContext, JobFailure, JobHandler } from './handler';

/** Bytes kept of each stream (the tail); older output is dropped as it arrives. */
const TAIL_BYTES = 64 * 1024;
/** `output` in the result: at most this many of the last lines and characters of stdout. */
const OUTPUT_LINES = 20;
const OUTPUT_CHARS = 2048;
/** A last stdout line that is a JSON object of at most this many characters becomes `result.result`. */
const RESULT_JSON_CHARS = 2048;
/** The error of a failed job: the last lines of stderr (or stdout). */
const ERROR_LINES = 10;
const ERROR_CHARS = 1000;
/** Setting values shorter than this are not scrubbed (they would mask ordinary words). */
export const MIN_SCRUBBED_LENGTH = 4;
export const REDACTED = '***';
const DEFAULT_KILL_GRACE_MS = 5000;
/** After the command exits, how long a grandchild still holding its stdout/stderr may delay the result. */
const STREAM_CLOSE_GRACE_MS = 2000;

export interface ExecOptions {
  /** SIGTERM → SIGKILL delay at timeout or shutdown. */
  killGraceMs?: number;
  /** Bytes kept of each stream (tests make it small). */
  tailBytes?: number;
}

/**
 * The handler of one config entry. A rollback is a job of the same type whose payload says `rollback: true` (with
 * `original_result`, docs/api.md §5 "Plugin jobs"); an execute job has no `rollback` key.
 */
export function execHandler(entry: ExecEntry, options: ExecOptions = {}): JobHandler {
  return (job, ctx) => runExec(entry, job, ctx, job.payload?.rollback === true, options);
}

async function runExec(entry: ExecEntry, job: ClaimedJob, ctx: JobContext, rollback: boolean, options: ExecOptions): Promise<Record<string, unknown>> {
  const argv = rollback ? entry.rollback : entry.run;
  if (!argv) throw new JobFailure(`This agent has no rollback command for "${entry.type}" (add "rollback" to its exec entry).`);
  const payload = job.payload ?? {};
  const settings = isPlainObject(payload.settings) ? payload.settings : {};
  const secrets = settingSecrets(settings);
  const scrub = (text: string) => scrubText(text, secrets);

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? homedir(),
    ...entry.env,
    ...settingsEnv(settings),
    COUNTERSIGN_JOB_ID: job.id,
    COUNTERSIGN_REQUEST_ID: job.request_id ?? '',
    COUNTERSIGN_REQUEST_TYPE: entry.type,
    COUNTERSIGN_ATTEMPT: String(job.attempt),
    // `plugin.test` jobs name the plugin instead of carrying a target.
    ...(typeof payload.plugin_id === 'string' ? { COUNTERSIGN_PLUGIN_ID: payload.plugin_id } : {}),
  };
  if (rollback) {
    env.COUNTERSIGN_ROLLBACK = '1';
    env.COUNTERSIGN_ORIGINAL_RESULT = JSON.stringify(payload.original_result ?? null);
  }

  const started = Date.now();
  ctx.log.info('exec started', { job_id: job.id, type: job.type, rollback, program: argv[0], timeout_seconds: entry.timeoutSeconds });
  const run = await runCommand({
    argv,
    cwd: entry.cwd,
    env,
    stdin: JSON.stringify(payload.target ?? {}) + '\n',
    timeoutMs: entry.timeoutSeconds * 1000,
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    tailBytes: options.tailBytes ?? TAIL_BYTES,
    signal: ctx.signal,
  });
  const durationMs = Date.now() - started;
  if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' });

  const stdout = scrub(run.stdout.text(secrets));
  const stderr = scrub(run.stderr.text(secrets));
  ctx.log.info('exec finished', { job_id: job.id, exit_code: run.exitCode, signal: run.signal, timed_out: run.timedOut, duration_ms: durationMs });
  if (run.spawnError) {
    throw new JobFailure(scrub(`Cannot start ${argv[0]}: ${run.spawnError}.`));
  }
  if (run.exitCode === 0 && !run.timedOut) return outcome(stdout, 0);

  const cause = run.timedOut
    ? `timed out after ${entry.timeoutSeconds} s (terminated)`
    : run.exitCode !== null
      ? `exited with code ${run.exitCode}`
      : `killed by ${run.signal}`;
  const tail = lastLines(stderr, ERROR_LINES, ERROR_CHARS) || lastLines(stdout, ERROR_LINES, ERROR_CHARS);
  const failure = new JobFailure(`${rollback ? 'Rollback command' : 'Command'} ${cause}${tail ? `: ${tail}` : '.'}`);
  failure.result = { ...outcome(stdout, run.exitCode), ...(run.timedOut ? { timed_out: true } : {}), ...(run.signal ? { signal: run.signal } : {}) };
  throw failure;
}

/** `{exit_code, output, result?}`: a last stdout line that is a JSON object becomes `result`, the lines before it `output`. */
export function outcome(stdout: string, exitCode: number | null): Record<string, unknown> {
  const lines = stdout.replace(/\s+$/, '').split('\n');
  const last = lines[lines.length - 1]?.trim() ?? '';
  if (last.startsWith('{') && last.length <= RESULT_JSON_CHARS) {
    try {
      const parsed: unknown = JSON.parse(last);
      if (isPlainObject(parsed)) return { exit_code: exitCode, output: lastLines(lines.slice(0, -1).join('\n'), OUTPUT_LINES, OUTPUT_CHARS), result: parsed };
    } catch {
      // not JSON: plain output
    }
  }
  return { exit_code: exitCode, output: lastLines(stdout, OUTPUT_LINES, OUTPUT_CHARS) };
}

/** `region` → `COUNTERSIGN_SETTING_REGION`, `secretAccessKey` / `secret-access-key` → `…_SECRET_ACCESS_KEY`. */
export function settingEnvName(key: string): string {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return snake ? `COUNTERSIGN_SETTING_${snake}` : '';
}

/** One variable per setting: strings as they are, other values as JSON. Two keys on one name fail the job. */
export function settingsEnv(settings: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    const name = settingEnvName(key);
    if (!name) throw new JobFailure(`The setting "${key}" has no usable environment variable name.`);
    if (from[name] !== undefined) throw new JobFailure(`The settings "${from[name]}" and "${key}" both map to ${name}.`);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text.includes('\0')) throw new JobFailure(`The setting "${key}" contains a NUL character.`);
    from[name] = key;
    env[name] = text;
  }
  return env;
}

/** Every string and number in the settings (at any depth) of at least MIN_SCRUBBED_LENGTH characters. */
export function settingSecrets(settings: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') {
      const text = String(value);
      if (text.length >= MIN_SCRUBBED_LENGTH) found.add(text);
    } else if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (isPlainObject(value)) {
      Object.values(value).forEach(walk);
    }
  };
  walk(settings);
  // Longest first, so a value that contains another is replaced whole.
  return [...found].sort((a, b) => b.length - a.length);
}

/** Replaces every secret, as written and as it appears inside a JSON string, by `***`. */
export function scrubText(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    out = out.split(secret).join(REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

/** The last `maxLines` lines, at most `maxChars` characters (cut at the front, marked with `…`). */
export function lastLines(text: string, maxLines: number, maxChars: number): string {
  const lines = text.replace(/\s+$/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  let tail = lines.slice(-maxLines).join('\n').replace(/^\s*\n/, '');
  if (tail.length > maxChars) tail = '…' + tail.slice(tail.length - maxChars + 1);
  return tail;
}

/** Keeps the last `capacity` bytes of a stream; memory stays bounded whatever the command prints. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private total = 0;

  constructor(private readonly capacity: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.total += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0].length >= this.capacity) this.size -= this.chunks.shift()!.length;
    if (this.chunks.length === 1 && this.size > this.capacity) {
      this.chunks[0] = this.chunks[0].subarray(this.size - this.capacity);
      this.size = this.capacity;
    }
  }

  /** Whether bytes were dropped at the front. */
  get truncated(): boolean {
    return this.total > this.capacity;
  }

  /**
   * The kept bytes as text. When the front was dropped, a secret may have been cut there, leaving an end of it that
   * scrubbing cannot recognise: the longest end of any secret (as written or JSON-escaped) that the kept bytes start
   * with is replaced by `***` too.
   */
  text(secrets: string[]): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.capacity) bytes = bytes.subarray(bytes.length - this.capacity);
    if (!this.truncated) return bytes.toString('utf8');
    let cut = 0;
    for (const secret of secrets) {
      for (const variant of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
        const whole = Buffer.from(variant, 'utf8');
        for (let k = Math.min(whole.length - 1, bytes.length); k > cut; k--) {
          if (bytes.subarray(0, k).equals(whole.subarray(whole.length - k))) {
            cut = k;
            break;
          }
        }
      }
    }
    bytes = bytes.subarray(cut);
    // The front may also have been cut inside a UTF-8 sequence: skip continuation bytes rather than emit U+FFFD.
    let start = 0;
    while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
    return (cut > 0 ? REDACTED : '') + bytes.subarray(start).toString('utf8');
  }
}

export interface CommandRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the program could not be started (ENOENT, EACCES…). */
  spawnError: string | null;
  stdout: TailBuffer;
  stderr: TailBuffer;
}

export interface CommandSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  killGraceMs: number;
  tailBytes: number;
  /** Aborts the command (SIGTERM, then SIGKILL after the grace), as at the timeout. */
  signal?: AbortSignal;
}

/** Runs one command to its end (or its kill); never rejects. */
export function runCommand(spec: CommandSpec): Promise<CommandRun> {
  const stdout = new TailBuffer(spec.tailBytes);
  const stderr = new TailBuffer(spec.tailBytes);
  return new Promise<CommandRun>((resolvePromise) => {
    let timedOut = false;
    let terminating = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    const timers: NodeJS.Timeout[] = [];
    let child: ReturnType<typeof spawn>;

    const finish = (spawnError: string | null) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      // Whatever of a terminated command's group is still alive (a TERM-ignoring grandchild holding the pipes) goes now.
      if (terminating) killGroup('SIGKILL');
      spec.signal?.removeEventListener('abort', onAbort);
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      resolvePromise({ exitCode: exit?.code ?? null, signal: exit?.signal ?? null, timedOut, spawnError, stdout, stderr });
    };
    const killGroup = (signal: NodeJS.Signals) => {
      if (child?.pid === undefined) return;
      try {
        process.kill(-child.pid, signal); // the whole group: a shell script's own children too
      } catch {
        // the group is gone
      }
    };
    const terminate = () => {
      if (terminating) return;
      terminating = true;
      killGroup('SIGTERM');
      const t = setTimeout(() => killGroup('SIGKILL'), spec.killGraceMs);
      t.unref();
      timers.push(t);
    };
    const onAbort = () => terminate();

    try {
      child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false, windowsHide: true });
    } catch (error) {
      finish((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      return;
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Spawn failures (ENOENT, EACCES) arrive here with no exit event.
      if (child.pid === undefined) finish(error.code ?? error.message);
    });
    child.stdout!.on('data', (c: Buffer) => stdout.push(c));
    child.stderr!.on('data', (c: Buffer) => stderr.push(c));
    child.stdin!.on('error', () => undefined); // a command that does not read stdin and exits: EPIPE is fine
    child.stdin!.end(spec.stdin);
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // A grandchild may keep the pipes open; stop waiting for them after a short grace.
      const t = setTimeout(() => finish(null), STREAM_CLOSE_GRACE_MS);
      t.unref();
      timers.push(t);
    });
    child.on('close', () => {
      if (exit) finish(null);
    });

    const timeout = setTimeout(() => {
      timedOut = true;
      terminate();
    }, spec.timeoutMs);
    timers.push(timeout);
    if (spec.signal?.aborted) terminate();
    else spec.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
