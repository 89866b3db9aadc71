import { LifecycleService } from './lifecycle.service';

describe('LifecycleService', () => {
  it('resolves the drain when the last request finishes', async () => {
    const lifecycle = new LifecycleService();
    lifecycle.requestStarted();
    lifecycle.requestStarted();
    lifecycle.beginShutdown();
    const drained = lifecycle.waitForIdle(5000);
    lifecycle.requestFinished();
    lifecycle.requestFinished();
    await expect(drained).resolves.toBe(true);
    expect(lifecycle.shuttingDown).toBe(true);
  });

  it('gives up after the grace period', async () => {
    const lifecycle = new LifecycleService();
    lifecycle.requestStarted();
    await expect(lifecycle.waitForIdle(20)).resolves.toBe(false);
  });
});
