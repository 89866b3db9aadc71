import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LocalSecrets {
  JWT_SECRET?: string;
  KMS_MASTER_KEY?: string;
  API_KEY_PEPPER?: string;
  AUDIT_SIGNING_KEY?: string;
}

const generators: Required<{ [K in keyof LocalSecrets]: () => string }> = {
  JWT_SECRET: () => randomBytes(48).toString('base64url'),
  KMS_MASTER_KEY: () => randomBytes(32).toString('base64'),
  API_KEY_PEPPER: () => randomBytes(32).toString('base64url'),
  AUDIT_SIGNING_KEY: () => randomBytes(32).toString('base64'),
};

/**
 * Fills the keys that were not configured from `<dataDir>/secrets.json`, generating (once) the ones that file lacks.
 * The file and its folder are owner-only. Returns the names that came from the file, for a start-up warning.
 */
export function loadOrCreateLocalSecrets(dataDir: string, given: LocalSecrets): { secrets: LocalSecrets; generated: string[] } {
  const file = path.join(dataDir, 'secrets.json');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let stored: LocalSecrets = {};
  if (fs.existsSync(file)) stored = JSON.parse(fs.readFileSync(file, 'utf8')) as LocalSecrets;

  const secrets: LocalSecrets = { ...given };
  const generated: string[] = [];
  let changed = false;
  for (const key of Object.keys(generators) as (keyof LocalSecrets)[]) {
    if (secrets[key]) continue;
    if (!stored[key]) {
      stored[key] = generators[key]();
      changed = true;
    }
    secrets[key] = stored[key];
    generated.push(key);
  }
  if (changed) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(stored, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  fs.chmodSync(file, 0o600);
  return { secrets, generated };
}
