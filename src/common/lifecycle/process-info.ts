import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const HAS_PROC = fs.existsSync('/proc/self/stat');

function ps(pid: number, field: 'stat' | 'command' | 'ppid'): string | undefined {
  try {
    return execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The process state letter (`R`, `S`, `Z`…), or undefined when it cannot be read. */
function processState(pid: number): string | undefined {
  if (!HAS_PROC) return ps(pid, 'stat')?.charAt(0);
  try {
    // "pid (comm) S ppid …": comm may hold spaces and parentheses, the state follows the last ")".
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) || undefined;
  } catch {
    return undefined;
  }
}

/** The parent pid of a process, or undefined when it cannot be read. */
export function parentPid(pid: number): number | undefined {
  let value: string | undefined;
  if (!HAS_PROC) value = ps(pid, 'ppid');
  else {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      value = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    } catch {
      return undefined;
    }
  }
  const ppid = Number(value);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/**
 * True when `pid` names a running process: signal 0 reaches it (or EPERM says it exists under another user) and it is
 * not a zombie — an exited child that nobody reaped (a non-reaping pid 1 in a container) still answers signal 0.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z';
}

/** The argument vector of a live process (`/proc/<pid>/cmdline`, or `ps` where there is no /proc); undefined if unknown. */
export function commandLine(pid: number): string[] | undefined {
  if (!HAS_PROC) return ps(pid, 'command')?.split(/\s+/);
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = raw.split('\0').filter((a) => a.length > 0);
    return args.length > 0 ? args : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `gone()` is true or `timeoutMs` passed; true when gone. */
export async function waitUntil(gone: () => boolean, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}

/** One escalation step: send `signal`, then wait up to `waitMs` for the process to be gone. */
export type StopStep = readonly [signal: NodeJS.Signals, waitMs: number];

/**
 * PostgreSQL's shutdown modes as signals: SIGINT is "fast" (disconnect clients, checkpoint, exit), SIGQUIT "immediate"
 * (exit at once; crash recovery on the next start), SIGKILL the last resort.
 */
export const POSTMASTER_STOP_STEPS: readonly StopStep[] = [
  ['SIGINT', 60_000],
  ['SIGQUIT', 10_000],
  ['SIGKILL', 10_000],
];

/**
 * Stops `pid` by escalating through `steps` until `gone()` (default: the process is no longer alive). `signal` is the
 * last one sent (undefined when the process was gone already).
 */
export async function stopProcess(
  pid: number,
  steps: readonly StopStep[] = POSTMASTER_STOP_STEPS,
  gone: () => boolean = () => !isProcessAlive(pid),
): Promise<{ stopped: boolean; signal?: NodeJS.Signals }> {
  let sent: NodeJS.Signals | undefined;
  for (const [signal, waitMs] of steps) {
    if (gone()) return { stopped: true, signal: sent };
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return { stopped: true, signal: sent };
      throw error;
    }
    sent = signal;
    if (await waitUntil(gone, waitMs)) return { stopped: true, signal };
  }
  return { stopped: gone(), signal: sent };
}
