/**
 * The agent's config file (`--config FILE`, JSON): which job types run through a configured command (the `exec`
 * handler) and which capabilities the agent advertises for them. Read once at start; a bad file is a usage error, so
 * a typo never turns into jobs failing one by one at run time.
 *
 * ```json
 * {
 *   "capabilities": ["aws-iam"],
 *   "exec": [{
 *     "type": "aws.rotate_iam_access_key", "capability": "aws-iam",
 *     "run": ["./rotate.sh"], "rollback": ["./restore.sh"], "timeout_seconds": 60, "env": {"AWS_PROFILE": "countersign"}
 *   }]
 * }
 * ```
 *
 * Commands are argv arrays (no shell). A program given as a path (`./rotate.sh`, `scripts/x`) is resolved against
 * the config file's folder, which is also the working directory of every command; a bare name (`python3`) is looked
 * up in PATH.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface ExecEntry {
  /** The job type this entry runs (a plugin request type key, e.g. `aws.rotate_iam_access_key`). */
  type: string;
  /** The capability advertised for it (the plugin's, e.g. `aws-iam`), if any. */
  capability: string | null;
  /** argv of the command for the job; `[0]` absolute when it was given as a path. */
  run: string[];
  /** argv of the command for its rollback jobs (same `type`, payload `rollback: true`), or null: they then fail. */
  rollback: string[] | null;
  timeoutSeconds: number;
  /** Static environment variables added to the minimal environment (never `COUNTERSIGN_*`). */
  env: Record<string, string>;
  /** The config file's folder: every command's working directory. */
  cwd: string;
}

export interface AgentConfigFile {
  path: string;
  capabilities: string[];
  exec: ExecEntry[];
}

/** Job types the agent runs itself; an `exec` entry may not take them over. */
export const BUILT_IN_JOB_TYPES = ['discovery.run', 'secret.read', 'secret.patch', 'secret.rotate'];

export const CAPABILITY = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const JOB_TYPE = /^[a-z0-9][a-z0-9._:-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const DEFAULT_TIMEOUT_SECONDS = 60;
const MAX_TIMEOUT_SECONDS = 86_400;
const ENTRY_KEYS = new Set(['type', 'capability', 'run', 'rollback', 'timeout_seconds', 'env']);

export class ConfigFileError extends Error {
  constructor(file: string, message: string) {
    super(`--config ${file}: ${message}`);
  }
}

export function loadConfigFile(file: string): AgentConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigFileError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(file, `not valid JSON (${(error as Error).message}).`);
  }
  return parseConfigFile(raw, resolve(file));
}

/** Validates a parsed config; `path` (absolute) gives the folder that relative commands are resolved against. */
export function parseConfigFile(raw: unknown, path: string): AgentConfigFile {
  function fail(message: string): never {
    throw new ConfigFileError(path, message);
  }
  if (!isPlainObject(raw)) return fail('the top level must be an object.');
  const unknown = Object.keys(raw).filter((k) => k !== 'capabilities' && k !== 'exec');
  if (unknown.length) fail(`unknown key(s) ${unknown.join(', ')} (expected capabilities, exec).`);
  const cwd = dirname(path);

  const capabilities: string[] = [];
  if (raw.capabilities !== undefined) {
    if (!Array.isArray(raw.capabilities) || !raw.capabilities.every((c) => typeof c === 'string' && CAPABILITY.test(c))) {
      fail(`capabilities must be an array of names matching ${CAPABILITY.source}.`);
    }
    capabilities.push(...(raw.capabilities as string[]));
  }

  const exec: ExecEntry[] = [];
  if (raw.exec !== undefined && !Array.isArray(raw.exec)) fail('exec must be an array.');
  const taken = new Map<string, string>();
  for (const [i, entry] of ((raw.exec as unknown[] | undefined) ?? []).entries()) {
    const at = `exec[${i}]`;
    if (!isPlainObject(entry)) return fail(`${at} must be an object.`);
    const extra = Object.keys(entry).filter((k) => !ENTRY_KEYS.has(k));
    if (extra.length) fail(`${at}: unknown key(s) ${extra.join(', ')} (expected ${[...ENTRY_KEYS].join(', ')}).`);
    const type = entry.type;
    if (typeof type !== 'string' || !JOB_TYPE.test(type)) return fail(`${at}.type must be a job type name matching ${JOB_TYPE.source}.`);
    if (BUILT_IN_JOB_TYPES.includes(type)) fail(`${at}.type "${type}" is a built-in job type; the agent runs it itself.`);
    const capability = entry.capability ?? null;
    if (capability !== null && (typeof capability !== 'string' || !CAPABILITY.test(capability))) fail(`${at}.capability must match ${CAPABILITY.source}.`);
    const run = command(entry.run, `${at}.run`, cwd, fail);
    const rollback = entry.rollback === undefined || entry.rollback === null ? null : command(entry.rollback, `${at}.rollback`, cwd, fail);
    const other = taken.get(type);
    if (other) fail(`${at}: job type "${type}" is already handled by ${other}.`);
    taken.set(type, at);
    const timeout = entry.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_SECONDS) {
      fail(`${at}.timeout_seconds must be an integer from 1 to ${MAX_TIMEOUT_SECONDS}.`);
    }
    const env: Record<string, string> = {};
    if (entry.env !== undefined) {
      if (!isPlainObject(entry.env)) return fail(`${at}.env must be an object of strings.`);
      for (const [name, value] of Object.entries(entry.env)) {
        if (!ENV_NAME.test(name) || name.toUpperCase().startsWith('COUNTERSIGN_')) fail(`${at}.env: "${name}" is not allowed (a variable name, not COUNTERSIGN_*).`);
        if (typeof value !== 'string' || value.includes('\0')) fail(`${at}.env.${name} must be a string.`);
        env[name] = value as string;
      }
    }
    exec.push({ type, capability, run, rollback, timeoutSeconds: timeout as number, env, cwd });
    if (capability && !capabilities.includes(capability)) capabilities.push(capability);
  }
  return { path, capabilities, exec };
}

/** An argv array of non-empty strings; a program given as a path must exist (relative to `cwd`) and be executable. */
function command(raw: unknown, at: string, cwd: string, fail: (m: string) => never): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((a) => typeof a === 'string' && !a.includes('\0'))) {
    return fail(`${at} must be a non-empty array of strings (argv; no shell).`);
  }
  const argv = [...(raw as string[])];
  if (!argv[0]) return fail(`${at}[0] must name a program.`);
  if (argv[0].includes('/')) {
    const program = isAbsolute(argv[0]) ? argv[0] : resolve(cwd, argv[0]);
    try {
      if (!statSync(program).isFile()) fail(`${at}[0]: ${program} is not a file.`);
      accessSync(program, constants.X_OK);
    } catch (error) {
      if (error instanceof ConfigFileError) throw error;
      fail(`${at}[0]: ${program} is missing or not executable (${(error as NodeJS.ErrnoException).code ?? 'error'}; chmod +x?).`);
    }
    argv[0] = program;
  }
  return argv;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
