import { MigrationInterface, QueryRunner } from 'typeorm';

/** Shared database helpers later tables use. */
export class Baseline1764000000000 implements MigrationInterface {
  name = 'Baseline1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.updated_at := now();
        RETURN NEW;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION IF EXISTS set_updated_at()');
  }
}
