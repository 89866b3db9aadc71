import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_BATCH } from './api-client';
import { AgentConfigFile, CAPABILITY, loadConfigFile } from './config-file';
import { LogLevel } from './logger';
import { defaultStatePath } from './state';

export interface AgentConfig {
  url: string | null;
  enrollToken: string | null;
  /** The file provider's directory; null for an agent that only runs `exec` jobs (`--config` without `--dir`). */
  dir: string | null;
  /** The parsed `--config` file, if one was given. */
  configFile: AgentConfigFile | null;
  statePath: string;
  name: string;
  clusterName: string;
  capabilities: string[];
  waitSeconds: number;
  heartbeatSeconds: number;
  /** Jobs run at the same time; the agent claims as many as it has free workers. */
  concurrency: number;
  logLevel: LogLevel;
}

export const USAGE = `Usage: countersign-agent (--dir DIR | --config FILE | both) [--url URL] [--enroll-token cse_…] [options]

  --url URL              Countersign server, e.g. http://localhost:8000 (default: the one in the state file)
  --enroll-token TOKEN   enrollment token (first run only); visible in \`ps\`: prefer one of the two below
  --enroll-token-file F  read the enrollment token from file F
                         (or set COUNTERSIGN_ENROLL_TOKEN in the environment)
  --dir DIR              the file provider's directory: every regular file under it is a secret
  --config FILE          JSON config: commands run for plugin job types (exec handler), their capabilities
  --state FILE           state file (default DIR/../.countersign-agent.json, or next to --config without --dir),
                         written with mode 0600
  --name NAME            agent name at enrollment (default: host name)
  --cluster NAME         cluster name reported with every secret (default: host name)
  --capabilities LIST    comma-separated capabilities (default: file with --dir); the config file's are added
  --wait SECONDS         claim long-poll, 0–30 (default 20)
  --heartbeat SECONDS    heartbeat interval (default 30)
  --concurrency N        jobs run at the same time, 1–50 (default 4); claims take as many as there are free workers
  --log-level LEVEL      debug, info, warn or error (default info)
`;

/** Jobs an agent runs at the same time unless `--concurrency` says otherwise. */
export const DEFAULT_CONCURRENCY = 4;

/** The server's limit on an agent's capabilities. */
const MAX_CAPABILITIES = 50;

export class UsageError extends Error {}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      'enroll-token': { type: 'string' },
      'enroll-token-file': { type: 'string' },
      dir: { type: 'string' },
      config: { type: 'string' },
      state: { type: 'string' },
      name: { type: 'string' },
      cluster: { type: 'string' },
      capabilities: { type: 'string' },
      wait: { type: 'string' },
      heartbeat: { type: 'string' },
      concurrency: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (!values.dir && !values.config) throw new UsageError('--dir or --config is required.');
  const dir = values.dir ?? null;
  const configFile = values.config ? loadConfigFile(values.config) : null;
  const url = values.url ?? env.COUNTERSIGN_URL ?? null;
  if (url !== null && !/^https?:\/\/[^/]/.test(url)) throw new UsageError('--url must be an http(s) URL.');
  const capabilities = (values.capabilities ?? (dir ? 'file' : '')).split(',').map((c) => c.trim()).filter(Boolean);
  if (!capabilities.every((c) => CAPABILITY.test(c))) throw new UsageError('--capabilities: comma-separated names matching ^[a-z0-9][a-z0-9._-]{0,62}$.');
  for (const c of configFile?.capabilities ?? []) if (!capabilities.includes(c)) capabilities.push(c);
  if (!capabilities.length) throw new UsageError('No capability to advertise: pass --capabilities, or name one in the config file ("capabilities" or an exec entry\'s "capability").');
  if (capabilities.length > MAX_CAPABILITIES) throw new UsageError(`At most ${MAX_CAPABILITIES} capabilities.`);
  const logLevel = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError('--log-level must be debug, info, warn or error.');
  const host = hostname() || 'localhost';
  return {
    url,
    enrollToken: values['enroll-token'] ?? tokenFromFile(values['enroll-token-file']) ?? env.COUNTERSIGN_ENROLL_TOKEN ?? null,
    dir,
    configFile,
    statePath: values.state ?? (dir ? defaultStatePath(dir) : join(dirname(configFile!.path), '.countersign-agent.json')),
    name: values.name ?? host,
    clusterName: values.cluster ?? host,
    capabilities,
    waitSeconds: intOption('--wait', values.wait, 20, 0, 30),
    heartbeatSeconds: intOption('--heartbeat', values.heartbeat, 30, 1, 3600),
    concurrency: intOption('--concurrency', values.concurrency, DEFAULT_CONCURRENCY, 1, MAX_BATCH),
    logLevel,
  };
}

function tokenFromFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`--enroll-token-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  if (!token) throw new UsageError(`--enroll-token-file: ${file} is empty.`);
  return token;
}

function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}.`);
  return Number(raw);
}
