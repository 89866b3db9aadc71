import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plugins installed per tenant (SPEC §7): the validated manifest, its keys (for clash checks), the settings without
 * their write-only fields, and the write-only fields as one KMS envelope. Jobs remember the plugin they run for, so
 * the claim (and only the claim) can hand the agent the decrypted settings; the job row itself never holds them.
 */
export class Plugins1764000900000 implements MigrationInterface {
  name = 'Plugins1764000900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plugins (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        manifest_id text NOT NULL,
        source text NOT NULL CHECK (source IN ('catalog', 'custom')),
        manifest jsonb NOT NULL,
        capability text NOT NULL,
        permission_keys text[] NOT NULL DEFAULT '{}',
        request_type_keys text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        settings jsonb NOT NULL DEFAULT '{}',
        sealed_settings jsonb,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, manifest_id)
      );
      CREATE INDEX plugins_tenant_idx ON plugins (tenant_id, id);
      ALTER TABLE jobs ADD COLUMN plugin_id text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs DROP COLUMN plugin_id; DROP TABLE plugins;`);
  }
}
