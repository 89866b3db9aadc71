/**
 * One JSON line per event on stdout: `{time, level, msg, ...fields}`.
 * Callers pass identifiers and counts only: never the agent secret, the enrollment token or any secret value.
 * As a second line of defence, fields whose names look like credentials are replaced by "[redacted]".
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SENSITIVE_KEY = /^(secret|.*_secret|token|.*_token|authorization|password|value|private_key|.*_private_key|dek|plaintext)$/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(minLevel: LogLevel = 'info', out: { write(line: string): unknown } = process.stdout): Logger {
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    const safe: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) safe[k] = SENSITIVE_KEY.test(k) ? '[redacted]' : v;
    out.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...safe }) + '\n');
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
