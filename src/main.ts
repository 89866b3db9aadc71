import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { version } from '../package.json';
import { AppModule } from './app.module';
import { AuthService } from './modules/auth/auth.service';
import { EmbeddedDatabase } from './common/db/embedded-postgres';
import { runMigrations } from './common/db/migration-runner';
import { configureHttpApp } from './common/http/configure-http';
import { createHttpAdapter } from './common/http/http-adapter';
import { installGracefulShutdown } from './common/lifecycle/graceful-shutdown';
import { acquireInstanceLock, AlreadyRunningError, InstanceLock } from './common/lifecycle/instance-lock';
import { onShutdownSignal } from './common/lifecycle/shutdown-signals';
import { createRootLogger } from './common/observability/logger';
import { PinoNestLogger } from './common/observability/nest-logger';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { DotEnvResult, loadDotEnv } from './config/dotenv';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** `./.env` when present (real environment variables win), then the validated configuration. */
function configOrExit(): { config: AppConfig; dotenv?: DotEnvResult } {
  try {
    const dotenv = loadDotEnv('.env', process.env);
    return { config: loadConfig(process.env), dotenv };
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

async function bootstrap(): Promise<void> {
  const { config, dotenv } = configOrExit();
  // Read by V8 at every full collection, so it applies however the server is started (npm start, Docker, a bench).
  if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const logger = createRootLogger(config.logLevel);
  if (dotenv) logger.info({ file: dotenv.file, loaded: dotenv.loaded.length, kept_from_environment: dotenv.overridden }, 'read .env');
  if (config.generatedSecrets.length > 0) {
    logger.warn({ keys: config.generatedSecrets, file: path.join(config.dataDir, 'secrets.json') }, 'keys not configured: using ones generated once and kept under DATA_DIR (set them explicitly in production)');
  }

  // Stop requests (SIGTERM/SIGINT/SIGHUP; copies of one Ctrl-C arriving through the wrappers count once). Until the
  // app serves, one only has the embedded database to stop; afterwards it drains requests first.
  let embedded: EmbeddedDatabase | undefined;
  let lock: InstanceLock | undefined;
  let stopping = false;
  let drain: ((signal: NodeJS.Signals) => Promise<void>) | undefined;
  const stopEmbedded = async () => {
    await embedded?.stop();
    lock?.release();
  };
  onShutdownSignal((signal) => {
    if (drain) return void drain(signal);
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stop requested during start-up');
    void stopEmbedded().finally(() => {
      logger.flush?.();
      process.exit(0);
    });
  });

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      // One server per data directory: the embedded cluster belongs to it.
      lock = acquireInstanceLock(config.dataDir);
      const started = Date.now();
      const clusterDir = path.join(config.dataDir, 'pg');
      embedded = new EmbeddedDatabase({
        clusterDir,
        port: config.embeddedPgPort,
        database: 'countersign',
        // Terminal signals must not cut PostgreSQL under in-flight requests: this process stops it after the drain.
        detached: true,
        onLog: (line) => logger.debug({ component: 'postgres' }, line),
        onOrphan: ({ pid, signal }) =>
          logger.warn({ pid, signal, data_dir: clusterDir }, 'stopped an embedded PostgreSQL left running by a previous server that did not shut down (e.g. kill -9)'),
      });
      await embedded.start();
      databaseUrl = embedded.url;
      config.databaseUrl = databaseUrl;
      logger.info({ port: config.embeddedPgPort, data_dir: clusterDir, pid: embedded.pid, duration_ms: Date.now() - started }, 'embedded PostgreSQL started');
    }
    const applied = await runMigrations(databaseUrl);
    logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date');

    // HTTP_ADAPTER: Express (default) or Fastify; configureHttpApp gives both the same pipeline.
    const app = await NestFactory.create(AppModule.forRoot(config, logger), createHttpAdapter(config), {
      bodyParser: false,
      bufferLogs: true,
      forceCloseConnections: true,
    });
    app.useLogger(app.get(PinoNestLogger));
    await configureHttpApp(app, config, logger, version);
    await app.listen(config.port, config.host);
    if (stopping) return; // a stop request came in while starting; its handler exits
    drain = installGracefulShutdown({ app, logger, graceSeconds: config.shutdownGraceSeconds, afterClose: stopEmbedded, listen: false });

    const base = `http://localhost:${config.port}`;
    const { setup_required: setupRequired } = await app.get(AuthService).setupStatus();
    const setupHint = config.nodeEnv === 'production' ? 'setup required: POST /api/v1/auth/setup with setup_token' : 'setup required: POST /api/v1/auth/setup';
    logger.info(
      { url: base, docs: `${base}/docs`, openapi: `${base}/openapi.json`, setup_required: setupRequired, pid: process.pid },
      `Countersign ${version} listening on ${base}; API docs at ${base}/docs; ${setupRequired ? setupHint : 'setup done'}`,
    );
  } catch (error) {
    if (stopping) return;
    await stopEmbedded().catch(() => undefined);
    logger.flush?.();
    if (error instanceof AlreadyRunningError) fail(error.message);
    fail(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

bootstrap().catch((error: unknown) => fail(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}`));
