import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../../migrations';

export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * One definition of the connection, shared by the app, the migration runner, the CLI (`ormconfig.ts`) and tests.
 * `statementTimeoutMs` (> 0) becomes PostgreSQL's `statement_timeout` on every connection of the pool, sent at connect:
 * a statement running longer is cancelled (SQLSTATE 57014, answered 503 STORAGE_UNAVAILABLE) instead of holding the
 * request as long as the database hangs. Only the app's pool sets it; migrations may legitimately run long.
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
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    },
  };
}
