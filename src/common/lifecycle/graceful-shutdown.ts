import { INestApplication } from '@nestjs/common';
import { Logger } from 'pino';
import { LifecycleService } from './lifecycle.service';
import { onShutdownSignal } from './shutdown-signals';

export interface ShutdownOptions {
  app: INestApplication;
  logger: Logger;
  graceSeconds: number;
  /** Runs after the application (and its database pool) closed: stops the embedded PostgreSQL. */
  afterClose?: () => Promise<void>;
  /** Defaults to `process.exit`; tests pass their own. */
  exit?: (code: number) => void;
  /** Listen for SIGTERM/SIGINT/SIGHUP (default true); `main.ts` routes signals itself. */
  listen?: boolean;
}

/**
 * The first stop request (SIGTERM/SIGINT/SIGHUP): readiness turns 503 at once, new requests get 503 SHUTTING_DOWN,
 * in-flight requests finish (up to the grace period), then the HTTP server, the pool and the embedded database close
 * and the process exits 0. A second request only logs that the drain is under way; a third stops waiting for the
 * in-flight requests (the close sequence still runs, so PostgreSQL still stops cleanly).
 * The returned function is the stop request itself; every call returns the same completion.
 */
export function installGracefulShutdown(options: ShutdownOptions): (signal: NodeJS.Signals) => Promise<void> {
  const { app, logger, graceSeconds, afterClose, exit = (code) => process.exit(code), listen = true } = options;
  const lifecycle = app.get(LifecycleService);
  let requests = 0;
  let completion: Promise<void> | undefined;
  let cutDrain: (() => void) | undefined;

  const run = async (signal: NodeJS.Signals) => {
    const begun = Date.now();
    lifecycle.beginShutdown();
    logger.info({ signal, in_flight: lifecycle.activeRequests }, 'shutdown: readiness off, draining in-flight requests');
    const cut = new Promise<boolean>((resolve) => (cutDrain = () => resolve(false)));
    const drained = await Promise.race([lifecycle.waitForIdle(graceSeconds * 1000), cut]);
    cutDrain = undefined;
    if (!drained) logger.warn({ in_flight: lifecycle.activeRequests }, 'shutdown: closing with requests still in flight');
    let code = 0;
    try {
      await app.close();
      await afterClose?.();
    } catch (error) {
      code = 1;
      logger.error({ err: error }, 'shutdown: error while closing');
    }
    logger.info({ duration_ms: Date.now() - begun }, 'shutdown: complete');
    logger.flush?.();
    exit(code);
  };

  const shutdown = (signal: NodeJS.Signals): Promise<void> => {
    requests++;
    if (!completion) {
      completion = run(signal);
      return completion;
    }
    if (requests === 2) {
      logger.warn(
        { signal, in_flight: lifecycle.activeRequests, grace_seconds: graceSeconds },
        'shutdown: already draining in-flight requests; send the signal once more to stop waiting for them',
      );
    } else if (cutDrain) {
      logger.warn({ signal, in_flight: lifecycle.activeRequests }, 'shutdown: drain cut short by a repeated signal');
      cutDrain();
    }
    return completion;
  };

  if (listen) onShutdownSignal((signal) => void shutdown(signal));
  return shutdown;
}
