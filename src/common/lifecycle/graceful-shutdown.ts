import { INestApplication } from '@nestjs/common';
import { Logger } from 'pino';
import { LifecycleService } from './lifecycle.service';

export interface ShutdownOptions {
  app: INestApplication;
  logger: Logger;
  graceSeconds: number;
  /** Runs after the application (and its database pool) closed: stops the embedded PostgreSQL. */
  afterClose?: () => Promise<void>;
  /** Defaults to `process.exit`; tests pass their own. */
  exit?: (code: number) => void;
  /** Listen for SIGTERM/SIGINT (default true). */
  listen?: boolean;
}

/**
 * SIGTERM/SIGINT: readiness turns 503 at once, new requests get 503 SHUTTING_DOWN, in-flight requests finish (up to
 * the grace period), then the HTTP server, the pool and the embedded database close and the process exits 0.
 */
export function installGracefulShutdown(options: ShutdownOptions): (signal: NodeJS.Signals) => Promise<void> {
  const { app, logger, graceSeconds, afterClose, exit = (code) => process.exit(code), listen = true } = options;
  const lifecycle = app.get(LifecycleService);
  let started = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    const begun = Date.now();
    lifecycle.beginShutdown();
    logger.info({ signal, in_flight: lifecycle.activeRequests }, 'shutdown: readiness off, draining in-flight requests');
    const drained = await lifecycle.waitForIdle(graceSeconds * 1000);
    if (!drained) logger.warn({ in_flight: lifecycle.activeRequests }, 'shutdown: grace period over with requests still in flight');
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
  if (listen) {
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  }
  return shutdown;
}
