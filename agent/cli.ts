import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { LogLevel } from './logger';
import { defaultStatePath } from './state';

export interface AgentConfig {
  url: string | null;
  enrollToken: string | null;
  dir: string;
  statePath: string;
  name: string;
  clusterName: string;
  capabilities: string[];
  waitSeconds: number;
  heartbeatSeconds: number;
  logLevel: LogLevel;
}

export const USAGE = `Usage: countersign-agent --dir DIR [--url URL] [--enroll-token cse_…] [options]

  --url URL              Countersign server, e.g. http://localhost:8000 (default: the one in the state file)
  --enroll-token TOKEN   enrollment token (first run only); visible in \`ps\`: prefer one of the two below
  --enroll-token-file F  read the enrollment token from file F
                         (or set COUNTERSIGN_ENROLL_TOKEN in the environment)
  --dir DIR              the file provider's directory: every regular file under it is a secret
  --state FILE           state file (default DIR/../.countersign-agent.json), written with mode 0600
  --name NAME            agent name at enrollment (default: host name)
  --cluster NAME         cluster name reported with every secret (default: host name)
  --capabilities LIST    comma-separated capabilities (default: file)
  --wait SECONDS         claim long-poll, 0–30 (default 20)
  --heartbeat SECONDS    heartbeat interval (default 30)
  --log-level LEVEL      debug, info, warn or error (default info)
`;

const CAPABILITY = /^[a-z0-9][a-z0-9._-]{0,62}$/;

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
      state: { type: 'string' },
      name: { type: 'string' },
      cluster: { type: 'string' },
      capabilities: { type: 'string' },
      wait: { type: 'string' },
      heartbeat: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (!values.dir) throw new UsageError('--dir is required.');
  const url = values.url ?? env.COUNTERSIGN_URL ?? null;
  if (url !== null && !/^https?:\/\/[^/]/.test(url)) throw new UsageError('--url must be an http(s) URL.');
  const capabilities = (values.capabilities ?? 'file').split(',').map((c) => c.trim()).filter(Boolean);
  if (!capabilities.length || !capabilities.every((c) => CAPABILITY.test(c))) throw new UsageError('--capabilities: comma-separated names matching ^[a-z0-9][a-z0-9._-]{0,62}$.');
  const logLevel = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError('--log-level must be debug, info, warn or error.');
  const host = hostname() || 'localhost';
  return {
    url,
    enrollToken: values['enroll-token'] ?? tokenFromFile(values['enroll-token-file']) ?? env.COUNTERSIGN_ENROLL_TOKEN ?? null,
    dir: values.dir,
    statePath: values.state ?? defaultStatePath(values.dir),
    name: values.name ?? host,
    clusterName: values.cluster ?? host,
    capabilities,
    waitSeconds: intOption('--wait', values.wait, 20, 0, 30),
    heartbeatSeconds: intOption('--heartbeat', values.heartbeat, 30, 1, 3600),
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
