import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import * as path from 'node:path';
import { version } from '../package.json';
import { AppModule } from './app.module';
import { AuthService } from './modules/auth/auth.service';
import { EmbeddedDatabase } from './common/db/embedded-postgres';
import { runMigrations } from './common/db/migration-runner';
import { configureHttpApp } from './common/http/configure-http';
import { installGracefulShutdown } from './common/lifecycle/graceful-shutdown';
import { createRootLogger } from './common/observability/logger';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';

function configOrExit(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function bootstrap(): Promise<void> {
  const config = configOrExit();
  const logger = createRootLogger(config.logLevel);
  if (config.generatedSecrets.length > 0) {
    logger.warn({ keys: config.generatedSecrets, file: path.join(config.dataDir, 'secrets.json') }, 'keys not configured: using ones generated once and kept under DATA_DIR (set them explicitly in production)');
  }

  let embedded: EmbeddedDatabase | undefined;
  const stopEmbedded = async () => {
    await embedded?.stop();
    embedded = undefined;
  };
  // Until the app is up, a signal only has the embedded database to stop.
  const early = () => void stopEmbedded().finally(() => process.exit(0));
  process.once('SIGTERM', early);
  process.once('SIGINT', early);

  if (!config.databaseUrl) {
    const started = Date.now();
    embedded = await EmbeddedDatabase.start({
      clusterDir: path.join(config.dataDir, 'pg'),
      port: config.embeddedPgPort,
      database: 'countersign',
      onLog: (line) => logger.debug({ component: 'postgres' }, line),
    });
    config.databaseUrl = embedded.url;
    logger.info({ port: config.embeddedPgPort, data_dir: path.join(config.dataDir, 'pg'), duration_ms: Date.now() - started }, 'embedded PostgreSQL started');
  }
  const applied = await runMigrations(config.databaseUrl);
  logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date');

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), {
    bodyParser: false,
    bufferLogs: true,
    forceCloseConnections: true,
  });
  app.useLogger(app.get(PinoNestLogger));
  await configureHttpApp(app, config, logger, version);
  await app.listen(config.port, config.host);

  process.removeListener('SIGTERM', early);
  process.removeListener('SIGINT', early);
  installGracefulShutdown({ app, logger, graceSeconds: config.shutdownGraceSeconds, afterClose: stopEmbedded });
  const base = `http://localhost:${config.port}`;
  const { setup_required: setupRequired } = await app.get(AuthService).setupStatus();
  logger.info(
    { url: base, docs: `${base}/docs`, openapi: `${base}/openapi.json`, setup_required: setupRequired },
    `Countersign ${version} listening on ${base}; API docs at ${base}/docs; ${setupRequired ? 'setup required: POST /api/v1/auth/setup' : 'setup done'}`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
