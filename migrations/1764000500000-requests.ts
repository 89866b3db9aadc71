import { MigrationInterface, QueryRunner } from 'typeorm';

/** Requests, their approvals and single-use wraps. */
export class Requests1764000500000 implements MigrationInterface {
  name = 'Requests1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE requests (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        type text NOT NULL,
        title text NOT NULL,
        reason text NOT NULL,
        status text NOT NULL,
        requester_id text NOT NULL REFERENCES users(id),
        workspace_id text NOT NULL REFERENCES workspaces(id),
        environment_id text REFERENCES environments(id) ON DELETE SET NULL,
        secret_id text REFERENCES secrets(id),
        target jsonb,
        access_duration_seconds integer,
        policy_decision jsonb,
        workflow jsonb,
        current_stage integer,
        approval_expires_at timestamptz,
        job_id text REFERENCES jobs(id),
        break_glass boolean NOT NULL DEFAULT false,
        submitted_at timestamptz,
        decided_at timestamptz,
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX requests_tenant_idx ON requests (tenant_id, id);
      CREATE INDEX requests_requester_idx ON requests (tenant_id, requester_id, id);
      CREATE INDEX requests_pending_idx ON requests (tenant_id, status, workspace_id) WHERE status = 'pending_approval';
      CREATE INDEX requests_expiry_idx ON requests (approval_expires_at) WHERE status = 'pending_approval';

      CREATE TABLE approvals (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        request_id text NOT NULL REFERENCES requests(id),
        stage integer NOT NULL,
        approver_id text NOT NULL REFERENCES users(id),
        decision text NOT NULL CHECK (decision IN ('approved', 'rejected')),
        comment text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (request_id, stage, approver_id)
      );
      CREATE INDEX approvals_request_idx ON approvals (tenant_id, request_id);

      -- Single-use hand-overs. Read flow: the agent's AES-256-GCM ciphertext under a KMS-wrapped DEK, revealed once to
      -- the requester. Patch flow: the requested value, envelope-encrypted at arrival, handed once to the agent.
      -- Consuming a wrap destroys its ciphertext in the same transaction.
      CREATE TABLE wraps (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        request_id text NOT NULL REFERENCES requests(id),
        kind text NOT NULL CHECK (kind IN ('read', 'patch')),
        dek_id text,
        wrapped_dek text,
        iv text,
        tag text,
        ciphertext text,
        agent_id text REFERENCES agents(id),
        expires_at timestamptz,
        consumed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (consumed_at IS NULL OR ciphertext IS NULL)
      );
      CREATE INDEX wraps_request_idx ON wraps (tenant_id, request_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE wraps, approvals, requests CASCADE`);
  }
}
