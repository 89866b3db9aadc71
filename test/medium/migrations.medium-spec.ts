import { Client } from 'pg';
import { MIGRATIONS_TABLE } from '../../src/common/db/data-source-options';
import { runMigrations } from '../../src/common/db/migration-runner';
import { migrations } from '../../migrations';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

describe('migration runner', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = await db.client();
    // Start from an empty schema: the copied template already holds every migration.
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  });

  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('applies every migration exactly once when replicas start together', async () => {
    const results = await Promise.all([runMigrations(db.url), runMigrations(db.url), runMigrations(db.url)]);
    const applied = results.flat();
    expect(applied).toHaveLength(migrations.length);
    const { rows } = await client.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
    expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => new m().name ?? m.name));
  });

  it('is a no-op on an up-to-date schema', async () => {
    expect(await runMigrations(db.url)).toEqual([]);
  });
});
