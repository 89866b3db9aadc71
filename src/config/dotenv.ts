import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';

export interface DotEnvResult {
  file: string;
  /** Names set from the file (those not already in the environment). */
  loaded: string[];
  /** Names in the file that the real environment already set, and so kept. */
  overridden: string[];
}

/**
 * Reads `file` (default `./.env`) when it exists and copies into `env` every variable the environment does not
 * already have — a real environment variable always wins, even an empty one. Returns undefined when there is no file.
 * Parsing is Node's own (`util.parseEnv`, the `--env-file` syntax: `KEY=value`, quotes, `#` comments, `export`).
 */
export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): DotEnvResult | undefined {
  const resolved = path.resolve(file);
  let content: string;
  try {
    content = fs.readFileSync(resolved, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parseEnv = (util as { parseEnv?: (content: string) => Record<string, string | undefined> }).parseEnv;
  if (typeof parseEnv !== 'function') throw new Error(`${resolved} needs Node.js 20.12 or later to be read (util.parseEnv)`);
  const loaded: string[] = [];
  const overridden: string[] = [];
  for (const [key, value] of Object.entries(parseEnv(content))) {
    if (value === undefined) continue;
    if (Object.prototype.hasOwnProperty.call(env, key)) overridden.push(key);
    else {
      env[key] = value;
      loaded.push(key);
    }
  }
  return { file: resolved, loaded, overridden };
}
