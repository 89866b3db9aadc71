import { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClsService } from 'nestjs-cls';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { Principal } from '../../src/common/auth/principal';
import { AccessTokenClaims, PRINCIPAL_RESOLVER, PrincipalResolver } from '../../src/common/auth/principal-resolver';
import { RequestContextStore } from '../../src/common/context/request-context';
import { ExclusiveRunner } from '../../src/common/db/exclusive-runner';
import { createRootLogger } from '../../src/common/observability/logger';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createTestDatabase, TestDatabase } from './test-database';

/**
 * Medium tests (STYLE.md): the real module graph (AppModule) over a fresh database of its own, no HTTP. Services are
 * called directly with principals resolved the way the guard resolves them, inside a request context of their own.
 */

/** The app's background schedule is off in medium tests: a test runs a sweeper or the sealer itself, when it wants. */
class ManualRunner extends ExclusiveRunner {
  readonly registered: string[] = [];
  override every(name: string): void {
    this.registered.push(name);
  }
}

/** Swallows the app's log lines (errors still reach `lines` for a test that wants them). */
class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

export interface MediumApp {
  app: INestApplication;
  config: AppConfig;
  db: TestDatabase;
  /** A plain pg client on the file's database, for assertions on rows (and for the rare fixture no service offers). */
  sql: Client;
  get<T>(type: Type<T>): T;
  /** Runs `fn` in a request context of its own whose caller is `principal` (audit events name it as the actor). */
  as<T>(principal: Principal | undefined, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function createMediumApp(env: Record<string, string> = {}): Promise<MediumApp> {
  const db = await createTestDatabase();
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'error',
    DB_CONNECT_TIMEOUT_MS: '30000',
    REDIS_URL: '',
    ...env,
    DATABASE_URL: db.url,
  });
  const logs = new LogSink();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config, createRootLogger(config.logLevel, logs))] })
    .overrideProvider(ExclusiveRunner)
    .useClass(ManualRunner)
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const sql = await db.client();
  const cls = app.get<ClsService<RequestContextStore>>(ClsService);
  let closed = false;
  return {
    app,
    config,
    db,
    sql,
    get: <T>(type: Type<T>) => app.get(type, { strict: false }),
    as: (principal, fn) =>
      cls.run(() => {
        cls.set('requestId', `medium-${randomBytes(6).toString('hex')}`);
        cls.set('correlationId', `medium-${randomBytes(6).toString('hex')}`);
        if (principal) cls.set('principal', principal);
        return fn();
      }),
    async close() {
      if (closed) return;
      closed = true;
      await sql.end();
      await app.close();
      await db.drop();
    },
  };
}

/** What a promise must be refused with: the stable code and status a client would see, never a class name. */
export async function expectAppError(promise: Promise<unknown>, status: number, code: string): Promise<{ status: number; code: string; details: unknown[] | null; message: string }> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).toBeDefined();
  expect({ status: (error as { status?: number }).status, code: (error as { code?: string }).code }).toEqual({ status, code });
  return error as { status: number; code: string; details: unknown[] | null; message: string };
}

/** Decodes the claims of an access token the app just issued (its signature is the app's business, not the test's). */
export function claimsOf(accessToken: string): AccessTokenClaims {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as AccessTokenClaims;
}

export { PRINCIPAL_RESOLVER };
export type { PrincipalResolver };
