import { MigrationInterface, QueryRunner } from 'typeorm';

/** Approval workflows (versioned definitions; one built-in default per tenant) and the policies that choose them. */
export class WorkflowsPolicies1764000400000 implements MigrationInterface {
  name = 'WorkflowsPolicies1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workflows (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        stages jsonb NOT NULL,
        approval_timeout_seconds integer CHECK (approval_timeout_seconds BETWEEN 60 AND 2592000),
        auto_execute boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        built_in boolean NOT NULL DEFAULT false,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX workflows_tenant_idx ON workflows (tenant_id, id);
      -- At most one built-in default per tenant: its lazy creation is an idempotent INSERT … ON CONFLICT DO NOTHING.
      CREATE UNIQUE INDEX workflows_tenant_built_in_key ON workflows (tenant_id) WHERE built_in;
      CREATE TRIGGER workflows_updated_at BEFORE UPDATE ON workflows FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE policies (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        priority integer NOT NULL CHECK (priority BETWEEN -1000 AND 1000),
        effect text NOT NULL CHECK (effect IN ('require_approval', 'auto_approve', 'deny')),
        workflow_id text REFERENCES workflows(id),
        match jsonb NOT NULL DEFAULT '{}',
        condition text CHECK (char_length(condition) <= 4000),
        enabled boolean NOT NULL DEFAULT true,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((effect = 'require_approval') = (workflow_id IS NOT NULL))
      );
      CREATE INDEX policies_tenant_idx ON policies (tenant_id, id);
      CREATE INDEX policies_workflow_idx ON policies (tenant_id, workflow_id) WHERE workflow_id IS NOT NULL;
      CREATE TRIGGER policies_updated_at BEFORE UPDATE ON policies FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE policies, workflows CASCADE`);
  }
}
