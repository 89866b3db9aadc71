import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit events (append-only, enforced by triggers), their hash-chain seals and signed checkpoints, and idempotency
 * records.
 */
export class AuditIdempotency1764000200000 implements MigrationInterface {
  name = 'AuditIdempotency1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id text PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        tenant_id text,
        actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'agent', 'system', 'anonymous')),
        actor_id text,
        actor_label text,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
        request_id text,
        correlation_id text,
        ip text,
        user_agent text,
        payload jsonb NOT NULL DEFAULT '{}',
        -- The inserting transaction: the sealer only seals events whose transactions can no longer be in flight.
        txid xid8 NOT NULL DEFAULT pg_current_xact_id()
      );
      CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, id DESC);
      CREATE INDEX audit_events_tenant_action_idx ON audit_events (tenant_id, action, id DESC);
      CREATE INDEX audit_events_tenant_resource_idx ON audit_events (tenant_id, resource_type, resource_id, id DESC);
      CREATE INDEX audit_events_tenant_correlation_idx ON audit_events (tenant_id, correlation_id);
      CREATE INDEX audit_events_tenant_request_idx ON audit_events (tenant_id, request_id);

      -- Append-only: no UPDATE, DELETE or TRUNCATE, for any role, unless a superuser deliberately disables
      -- triggers for its session (session_replication_role = replica), which /verify then exposes.
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

      -- The chain: one seal per event, in sealing order per chain (tenant, or '*' for platform events).
      CREATE TABLE audit_seals (
        event_id text PRIMARY KEY REFERENCES audit_events(id),
        chain text NOT NULL,
        seq bigint NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        sealed_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (chain, seq)
      );
      CREATE TRIGGER audit_seals_no_update BEFORE UPDATE OR DELETE ON audit_seals
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

      CREATE TABLE audit_checkpoints (
        id bigserial PRIMARY KEY,
        chain text NOT NULL,
        seq bigint NOT NULL,
        last_event_id text NOT NULL,
        hash text NOT NULL,
        signature text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX audit_checkpoints_chain_idx ON audit_checkpoints (chain, id DESC);

      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        status_code integer NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        body text,
        resource_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys, audit_checkpoints, audit_seals, audit_events CASCADE;
      DROP FUNCTION IF EXISTS audit_events_append_only()`);
  }
}
