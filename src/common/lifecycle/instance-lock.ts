import * as fs from 'node:fs';
import * as path from 'node:path';
import { commandLine, isProcessAlive } from './process-info';

export const INSTANCE_LOCK_FILE = 'countersign.pid';

/** Another live Countersign server owns the data directory. */
export class AlreadyRunningError extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(`Countersign is already running on ${dataDir} (pid ${pid})`);
    this.name = 'AlreadyRunningError';
  }
}

export interface InstanceLock {
  readonly file: string;
  /** Removes the file if it still names this process (idempotent). */
  release(): void;
}

export interface LockHolder {
  pid: number;
  entry?: string;
}

export function readHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pidLine, entry] = text.split('\n');
  const pid = Number(pidLine.trim());
  return { pid: Number.isInteger(pid) && pid > 0 ? pid : 0, entry: entry?.trim() || undefined };
}

/**
 * A holder is live when its pid runs, is not this process (a container restarts with the same pids), and its command
 * line still names the server entry point it recorded — so a recycled pid is not taken for a running server. When the
 * command line cannot be read at all, a live pid is assumed to be the server (refusing to start beats two servers).
 */
export function holderIsLive(holder: LockHolder): boolean {
  if (!holder.pid || holder.pid === process.pid || !isProcessAlive(holder.pid)) return false;
  const args = commandLine(holder.pid);
  if (!args) return true;
  const entry = holder.entry ?? 'main.js';
  return args.some((arg) => arg === entry || arg.endsWith(`/${path.basename(entry)}`) || arg === path.basename(entry));
}

/**
 * Takes `<dataDir>/countersign.pid` for this process (pid and entry script, mode 0600). The file appears complete and
 * exclusively (written aside, then hard-linked into place). A file left by a dead server (kill -9, power loss) is moved
 * aside and replaced; one naming a live server throws `AlreadyRunningError`.
 */
export function acquireInstanceLock(dataDir: string, entry: string = process.argv[1] ?? 'main.js'): InstanceLock {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, INSTANCE_LOCK_FILE);
  const mine = `${file}.${process.pid}.new`;
  const aside = `${file}.${process.pid}.stale`;
  fs.writeFileSync(mine, `${process.pid}\n${path.resolve(entry)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(mine, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
      }
      const holder = readHolder(file);
      if (!holder) continue;
      if (holderIsLive(holder)) throw new AlreadyRunningError(dir, holder.pid);
      try {
        fs.renameSync(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      // Another start may have replaced the stale file in between: what was moved aside is then its lock; put it back.
      const moved = readHolder(aside);
      if (moved && moved.pid !== holder.pid) {
        try {
          fs.linkSync(aside, file);
        } catch {
          /* a third start took the place; the next round judges it */
        }
        if (holderIsLive(moved)) throw new AlreadyRunningError(dir, moved.pid);
      }
      fs.rmSync(aside, { force: true });
    }
  } finally {
    fs.rmSync(mine, { force: true });
    fs.rmSync(aside, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}
