import { INestApplication } from '@nestjs/common';
import pino from 'pino';
import { Writable } from 'node:stream';
import { installGracefulShutdown } from './graceful-shutdown';
import { LifecycleService } from './lifecycle.service';

describe('installGracefulShutdown', () => {
  function setup() {
    const lifecycle = new LifecycleService();
    const order: string[] = [];
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(String(chunk)), done()) }));
    const app = { get: () => lifecycle, close: async () => void order.push('app.close') } as unknown as INestApplication;
    const exit = jest.fn((code: number) => void order.push(`exit ${code}`));
    const shutdown = installGracefulShutdown({ app, logger, graceSeconds: 30, exit, listen: false, afterClose: async () => void order.push('postgres.stop') });
    return { lifecycle, order, lines, exit, shutdown };
  }
  const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('a second stop request does not cut the drain; the request finishes, then app, then PostgreSQL close', async () => {
    const { lifecycle, order, lines, exit, shutdown } = setup();
    lifecycle.requestStarted();
    const done = shutdown('SIGINT');
    expect(lifecycle.shuttingDown).toBe(true);
    expect(shutdown('SIGINT')).toBe(done);
    await tick();
    expect(exit).not.toHaveBeenCalled();
    expect(lines.join('')).toContain('already draining');
    lifecycle.requestFinished();
    await done;
    expect(order).toEqual(['app.close', 'postgres.stop', 'exit 0']);
  });

  it('a third stop request stops waiting for in-flight requests, and still closes everything in order', async () => {
    const { lifecycle, order, lines, shutdown } = setup();
    lifecycle.requestStarted();
    const done = shutdown('SIGTERM');
    shutdown('SIGTERM');
    await tick();
    expect(order).toEqual([]);
    shutdown('SIGTERM');
    await done;
    expect(lines.join('')).toContain('drain cut short');
    expect(order).toEqual(['app.close', 'postgres.stop', 'exit 0']);
    lifecycle.requestFinished(); // (ends the abandoned drain wait and its timer)
  });
});
