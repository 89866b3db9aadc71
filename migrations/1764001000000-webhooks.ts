import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook endpoints per tenant and their outbox (SPEC §3 Webhooks). The signing secret is a KMS envelope (the server
 * must sign with it, so it cannot be hashed); during a rotation the previous envelope signs too until
 * `previous_secret_expires_at`. A delivery row is written in the transaction of the event that causes it; the
 * dispatchers of every replica claim due rows with `FOR UPDATE SKIP LOCKED` and hold them by `locked_until`.
 */
export class Webhooks1764001000000 implements MigrationInterface {
  name = 'Webhooks1764001000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        url text NOT NULL,
        events text[] NOT NULL,
        description text,
        format text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
        enabled boolean NOT NULL DEFAULT true,
        secret jsonb NOT NULL,
        previous_secret jsonb,
        previous_secret_expires_at timestamptz,
        consecutive_failures integer NOT NULL DEFAULT 0,
        failing_since timestamptz,
        disabled_reason text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, id);
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id text NOT NULL,
        event text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (tenant_id, webhook_id, id);
      -- agent.offline is announced once per lapse: after the last heartbeat it was announced for.
      ALTER TABLE agents ADD COLUMN offline_notified_at timestamptz;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents DROP COLUMN offline_notified_at; DROP TABLE webhook_deliveries; DROP TABLE webhooks;`);
  }
}
