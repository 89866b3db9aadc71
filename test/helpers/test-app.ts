import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Writable } from 'node:stream';
import { version } from '../../package.json';
import { AppModule } from '../../src/app.module';
import { configureHttpApp } from '../../src/common/http/configure-http';
import { createHttpAdapter } from '../../src/common/http/http-adapter';
import { createRootLogger } from '../../src/common/observability/logger';
import { buildOpenApiDocument } from '../../src/common/http/openapi';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { ContractRecorder } from './contract-recorder';
import { ContractValidator } from './contract-validator';
import { createTestDatabase, TestDatabase } from './test-database';

/** Every JSON log line the app wrote, for assertions (e.g. that no secret is logged). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
  parsed(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface TestApp {
  app: INestApplication;
  /** The Node http.Server, for supertest. */
  http: ReturnType<INestApplication['getHttpServer']>;
  config: AppConfig;
  db: TestDatabase;
  logs: LogCapture;
  /** Stops the app, drops its database, and throws when a response it sent does not match /openapi.json. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Extra modules (fixtures) mounted beside the real ones. */
  imports?: ModuleMetadata['imports'];
  /** Use this database URL instead of the file's own database (e.g. through a proxy). */
  databaseUrl?: string;
  db?: TestDatabase;
  /** The HTTP adapter (default: HTTP_ADAPTER from the environment, else Express). */
  adapter?: 'express' | 'fastify';
}

/** The real application (same pipeline as `main.ts`) on a fresh database of its own. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  // Test files log in many times from one IP: the harness raises the auth-class limit unless a test sets its own.
  // REDIS_URL in the environment is for the tests that ask for it (`env: { REDIS_URL }`); the others stay without Redis.
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'info',
    RATE_LIMIT_AUTH: '1000',
    // Test files share two cores with PostgreSQL (and, in CI, sometimes another suite): opening a connection may be slow.
    DB_CONNECT_TIMEOUT_MS: '30000',
    REDIS_URL: '',
    ...options.env,
    ...(options.adapter ? { HTTP_ADAPTER: options.adapter } : {}),
    DATABASE_URL: options.databaseUrl ?? db.url,
  });
  const logs = new LogCapture();
  const logger = createRootLogger(config.logLevel, logs);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config, logger), ...(options.imports ?? [])] }).compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(config), { bodyParser: false, logger: false, forceCloseConnections: true });
  // Every response is checked against the document this same app generates; `close()` fails on any mismatch.
  const contract = new ContractRecorder();
  app.use(contract.middleware);
  try {
    await configureHttpApp(app, config, logger, version);
  } catch (error) {
    // A refused start-up (e.g. a route without its declarations) must not leave timers, pools or the database behind.
    await app.close().catch(() => undefined);
    if (!options.db) await db.drop();
    throw error;
  }
  contract.use(new ContractValidator(buildOpenApiDocument(app, version)));
  let closed = false;
  return {
    app,
    http: app.getHttpServer(),
    config,
    db,
    logs,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      if (!options.db) await db.drop();
      contract.assertClean();
    },
  };
}
