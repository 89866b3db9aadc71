import { MigrationInterface, QueryRunner } from 'typeorm';

/** Agents and their enrollment tokens, the discovered secret inventory, the job queue and issued data keys. */
export class AgentsJobs1764000300000 implements MigrationInterface {
  name = 'AgentsJobs1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agent_enrollment_tokens (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        workspace_id text NOT NULL REFERENCES workspaces(id),
        environment_id text REFERENCES environments(id) ON DELETE CASCADE,
        name text,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        max_uses integer NOT NULL CHECK (max_uses >= 1),
        uses integer NOT NULL DEFAULT 0,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX agent_enrollment_tokens_tenant_idx ON agent_enrollment_tokens (tenant_id, id);

      CREATE TABLE agents (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        workspace_id text NOT NULL REFERENCES workspaces(id),
        environment_id text REFERENCES environments(id) ON DELETE SET NULL,
        name text NOT NULL,
        cluster_name text NOT NULL,
        version text,
        capabilities text[] NOT NULL DEFAULT '{}',
        secret_hash text NOT NULL UNIQUE,
        public_key text,
        revoked_at timestamptz,
        last_seen_at timestamptz,
        enrollment_token_id text REFERENCES agent_enrollment_tokens(id),
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX agents_tenant_idx ON agents (tenant_id, id);

      CREATE TABLE secrets (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        workspace_id text NOT NULL REFERENCES workspaces(id),
        environment_id text REFERENCES environments(id) ON DELETE SET NULL,
        agent_id text REFERENCES agents(id),
        cluster_name text NOT NULL,
        provider text NOT NULL,
        ref text NOT NULL,
        labels jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'active',
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX secrets_identity_key ON secrets (tenant_id, workspace_id, cluster_name, provider, ref);
      CREATE INDEX secrets_tenant_idx ON secrets (tenant_id, id);
      CREATE INDEX secrets_labels_idx ON secrets USING gin (labels jsonb_path_ops);

      CREATE TABLE jobs (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        workspace_id text NOT NULL REFERENCES workspaces(id),
        environment_id text REFERENCES environments(id) ON DELETE SET NULL,
        capability text,
        target_agent_id text REFERENCES agents(id),
        requires_public_key boolean NOT NULL DEFAULT false,
        type text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'leased', 'succeeded', 'failed', 'dead')),
        attempt integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
        agent_id text REFERENCES agents(id),
        lease_token text,
        lease_expires_at timestamptz,
        completed_lease_token text,
        result jsonb,
        error text,
        owner_type text,
        owner_id text,
        correlation_id text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE INDEX jobs_claim_idx ON jobs (tenant_id, workspace_id, id) WHERE status = 'queued';
      CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE status = 'leased';
      CREATE INDEX jobs_agent_idx ON jobs (agent_id) WHERE status = 'leased';
      CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, id);
      CREATE INDEX jobs_owner_idx ON jobs (owner_type, owner_id);

      CREATE TABLE deks (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        agent_id text NOT NULL REFERENCES agents(id),
        wrapped_dek text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE deks, jobs, secrets, agents, agent_enrollment_tokens CASCADE`);
  }
}
