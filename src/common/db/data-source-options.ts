import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../../migrations';
import { BoundedClient, QUERY_TIMEOUT_GRACE_MS } from './bounded-client';

export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * One definition of the connection, shared by the app, the migration runner, the CLI (`ormconfig.ts`) and tests.
 * `statementTimeoutMs` (> 0) becomes PostgreSQL's `statement_timeout` on every connection of the pool, sent at connect:
 * a statement running longer is cancelled (SQLSTATE 57014, answered 503 STORAGE_UNAVAILABLE) instead of holding the
 * request as long as the database hangs. A server that cannot act (frozen, or cut off without a reset) cannot cancel
 * either: the client then gives up `QUERY_TIMEOUT_GRACE_MS` later (pg's `query_timeout`, 503 as well) and discards the
 * connection (BoundedClient). Only the app's pool sets these; migrations may legitimately run long.
 */
export function buildDataSourceOptions(url: string, poolSize = 10, statementTimeoutMs = 0, connectTimeoutMs = 5000): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: 'countersign',
    extra: {
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      idleTimeoutMillis: 30000,
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS, Client: BoundedClient } : {}),
    },
  };
}
