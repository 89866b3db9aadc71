import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, users and their sessions, workspaces and environments, roles and assignments, API keys. */
export class Identity1764000100000 implements MigrationInterface {
  name = 'Identity1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id text PRIMARY KEY,
        slug text NOT NULL,
        display_name text NOT NULL,
        plan text NOT NULL DEFAULT 'free',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
      CREATE TRIGGER tenants_updated_at BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE users (
        id text PRIMARY KEY,
        email text NOT NULL,
        name text NOT NULL,
        password_hash text,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invited')),
        is_platform_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_email_key ON users (lower(email));
      CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE tenant_members (
        tenant_id text NOT NULL REFERENCES tenants(id),
        user_id text NOT NULL REFERENCES users(id),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, user_id)
      );
      CREATE INDEX tenant_members_user_idx ON tenant_members (user_id);
      CREATE TRIGGER tenant_members_updated_at BEFORE UPDATE ON tenant_members FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE invitations (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        user_id text NOT NULL REFERENCES users(id),
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        created_by text REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE sessions (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        user_id text NOT NULL REFERENCES users(id),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text,
        ip text,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

      CREATE TABLE refresh_tokens (
        id text PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

      CREATE TABLE workspaces (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        slug text NOT NULL,
        display_name text NOT NULL,
        capabilities text[] NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE UNIQUE INDEX workspaces_tenant_slug_key ON workspaces (tenant_id, slug) WHERE status <> 'deleted';
      CREATE INDEX workspaces_tenant_idx ON workspaces (tenant_id, id);
      CREATE TRIGGER workspaces_updated_at BEFORE UPDATE ON workspaces FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE environments (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        workspace_id text NOT NULL REFERENCES workspaces(id),
        name text NOT NULL,
        protected boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX environments_workspace_name_key ON environments (workspace_id, name);
      CREATE INDEX environments_tenant_idx ON environments (tenant_id, id);

      CREATE TABLE roles (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        permissions text[] NOT NULL DEFAULT '{}',
        built_in boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX roles_tenant_name_key ON roles (tenant_id, name);
      CREATE TRIGGER roles_updated_at BEFORE UPDATE ON roles FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE user_roles (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        user_id text NOT NULL REFERENCES users(id),
        role_id text NOT NULL REFERENCES roles(id),
        scope_type text NOT NULL CHECK (scope_type IN ('tenant', 'workspace', 'environment')),
        scope_id text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX user_roles_unique_key ON user_roles (tenant_id, user_id, role_id, scope_type, scope_id);
      CREATE INDEX user_roles_user_idx ON user_roles (tenant_id, user_id);
      CREATE INDEX user_roles_role_idx ON user_roles (role_id);

      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        permissions text[] NOT NULL DEFAULT '{}',
        created_by text NOT NULL REFERENCES users(id),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys, user_roles, roles, environments, workspaces, refresh_tokens, sessions, invitations,
      tenant_members, users, tenants CASCADE`);
  }
}
