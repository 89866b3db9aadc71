import { spawn } from 'node:child_process';
import * as path from 'node:path';

/**
 * The short soak in CI: `npm run soak` for 15 s on the built server (scripts/start.js, embedded PostgreSQL, the
 * reference agent). Its own checks decide (exit code); this test only runs it and shows the figures it printed.
 */
describe('soak (built server under a mixed workload)', () => {
  it('passes: no 5xx, no error log line, every request final, every old audit event sealed, RSS flat', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.join(root, 'scripts', 'soak.js')], {
        cwd: root,
        env: { ...process.env, SOAK_SECONDS: process.env.SOAK_SECONDS ?? '15', SOAK_USERS: '3', DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (c: Buffer) => output.push(c.toString()));
      child.stderr.on('data', (c: Buffer) => output.push(c.toString()));
      child.on('exit', resolve);
    });
    const text = output.join('');
    process.stdout.write(text);
    expect({ code, tail: text.split('\n').slice(-8).join('\n') }).toEqual({ code: 0, tail: expect.stringContaining('PASS') });
  }, 300_000);
});
