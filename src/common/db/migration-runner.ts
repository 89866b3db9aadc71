import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options';

/** Any replica may start first; the lock makes exactly one of them apply pending migrations. */
const MIGRATION_LOCK_KEY = 7_301_001;

export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource({ ...buildDataSourceOptions(url, 1) });
  await dataSource.initialize();
  try {
    await dataSource.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await dataSource.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await dataSource.destroy();
  }
}
