/**
 * The agent's identity on disk (mode 0600): the server it belongs to, its id and secret, and its X25519 private key.
 * Written atomically (temporary file in the same directory, then rename) so a crash never leaves half a file.
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write';

export interface AgentState {
  url: string;
  agent_id: string;
  agent_secret: string;
  /** Raw 32-byte X25519 private key, standard base64. */
  x25519_private_key: string;
  /** Raw 32-byte X25519 public key, standard base64. */
  public_key: string;
  /** Whether PUT /public-key succeeded (so a crash right after enrollment registers it on the next start). */
  public_key_registered?: boolean;
}

/** `<dir>/../.countersign-agent.json` unless `--state` says otherwise. */
export function defaultStatePath(secretsDir: string): string {
  return join(resolve(secretsDir), '..', '.countersign-agent.json');
}

export async function loadState(path: string): Promise<AgentState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<AgentState>;
  for (const field of ['url', 'agent_id', 'agent_secret', 'x25519_private_key', 'public_key'] as const) {
    if (typeof parsed[field] !== 'string' || !parsed[field]) throw new Error(`State file ${path} lacks "${field}".`);
  }
  // Tighten a state file someone loosened by hand.
  await chmod(path, 0o600);
  return parsed as AgentState;
}

export async function saveState(path: string, state: AgentState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(state, null, 2) + '\n', 0o600);
}
