import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireInstanceLock, AlreadyRunningError, INSTANCE_LOCK_FILE } from './instance-lock';

/** A live process whose command line names `entry` (a node process running a script of that name). */
function liveProcess(dir: string, entry: string) {
  const script = path.join(dir, entry);
  fs.writeFileSync(script, 'setInterval(() => {}, 1000);\n');
  const child = spawn(process.execPath, [script], { stdio: 'ignore' });
  return { child, script };
}

describe('acquireInstanceLock', () => {
  let dir: string;
  const cleanup: (() => void)[] = [];
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-lock-'))));
  afterEach(() => {
    for (const fn of cleanup.splice(0)) fn();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = () => path.join(dir, INSTANCE_LOCK_FILE);

  it('writes this pid and entry, owner-only, and removes the file on release', () => {
    const lock = acquireInstanceLock(dir, '/srv/countersign/dist/src/main.js');
    expect(lock.file).toBe(file());
    expect(fs.readFileSync(file(), 'utf8')).toBe(`${process.pid}\n/srv/countersign/dist/src/main.js\n`);
    expect(fs.statSync(file()).mode & 0o777).toBe(0o600);
    lock.release();
    expect(fs.existsSync(file())).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses while a live server holds it, naming the directory and pid', async () => {
    const { child, script } = liveProcess(dir, 'main.js');
    cleanup.push(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    fs.writeFileSync(file(), `${child.pid}\n${script}\n`);
    let error: unknown;
    try {
      acquireInstanceLock(dir, 'main.js');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AlreadyRunningError);
    expect((error as Error).message).toBe(`Countersign is already running on ${dir} (pid ${child.pid})`);
    expect(fs.readFileSync(file(), 'utf8')).toBe(`${child.pid}\n${script}\n`); // untouched
  });

  it('replaces a file left by a dead server', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    fs.writeFileSync(file(), `${child.pid}\n/old/dist/src/main.js\n`);
    const lock = acquireInstanceLock(dir, 'main.js');
    expect(fs.readFileSync(file(), 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });

  it('does not take a recycled pid (a live process that is not the recorded server) for a running server', async () => {
    const { child } = liveProcess(dir, 'something-else.js');
    cleanup.push(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    fs.writeFileSync(file(), `${child.pid}\n/srv/countersign/dist/src/main.js\n`);
    const lock = acquireInstanceLock(dir, 'main.js');
    expect(fs.readFileSync(file(), 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });

  it('does not take its own pid (a container restarts with the same pids) or garbage for a running server', () => {
    fs.writeFileSync(file(), `${process.pid}\n${process.argv[1]}\n`);
    acquireInstanceLock(dir, 'main.js').release();
    fs.writeFileSync(file(), 'not a pid\n');
    acquireInstanceLock(dir, 'main.js').release();
    expect(fs.existsSync(file())).toBe(false);
  });
});
