import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../../migrations';

export const MIGRATIONS_TABLE = 'schema_migrations';

/** One definition of the connection, shared by the app, the migration runner, the CLI (`ormconfig.ts`) and tests. */
export function buildDataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
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
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    },
  };
}
