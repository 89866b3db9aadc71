import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OpenID Connect sign-in per tenant (issue 15).
 *
 * - `auth_providers`: a tenant's identity providers. The client secret is a KMS envelope (the server presents it at the
 *   token endpoint, so it cannot be hashed), bound to the tenant and provider. `group_mappings` maps values of the ID
 *   token's `groups_claim` to group ids of the same tenant (checked by the service; the groups it names are managed by
 *   the provider).
 * - `oidc_logins`: one row per started sign-in, found by the hash of its `state`, holding the `nonce` and the PKCE
 *   verifier; consumed once (`consumed_at`), useless after `expires_at`.
 * - `oidc_identities`: which local user a provider's subject (`sub`) signed in as; later sign-ins follow the subject,
 *   not the email.
 * - `tenants.password_login`: false refuses password sign-in to the tenant except for its owners (break-glass).
 * - `sessions.auth_method`/`auth_provider_id`: how a session was opened (an SSO session stays in its tenant).
 */
export class Oidc1764001300000 implements MigrationInterface {
  name = 'Oidc1764001300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_providers (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        issuer text NOT NULL,
        client_id text NOT NULL,
        client_secret jsonb NOT NULL,
        scopes text[] NOT NULL,
        allowed_email_domains text[] NOT NULL DEFAULT '{}',
        groups_claim text,
        group_mappings jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX auth_providers_tenant_id_key ON auth_providers (tenant_id, id);
      CREATE TRIGGER auth_providers_updated_at BEFORE UPDATE ON auth_providers FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE oidc_logins (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        provider_id text NOT NULL,
        state_hash text NOT NULL UNIQUE,
        nonce text NOT NULL,
        code_verifier text NOT NULL,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (tenant_id, provider_id) REFERENCES auth_providers (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX oidc_logins_expires_idx ON oidc_logins (expires_at);

      CREATE TABLE oidc_identities (
        tenant_id text NOT NULL,
        provider_id text NOT NULL,
        subject text NOT NULL,
        user_id text NOT NULL REFERENCES users(id),
        email text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider_id, subject),
        FOREIGN KEY (tenant_id, provider_id) REFERENCES auth_providers (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX oidc_identities_user_idx ON oidc_identities (tenant_id, user_id);

      ALTER TABLE tenants ADD COLUMN password_login boolean NOT NULL DEFAULT true;
      ALTER TABLE sessions ADD COLUMN auth_method text NOT NULL DEFAULT 'password' CHECK (auth_method IN ('password', 'oidc'));
      ALTER TABLE sessions ADD COLUMN auth_provider_id text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sessions DROP COLUMN auth_provider_id;
      ALTER TABLE sessions DROP COLUMN auth_method;
      ALTER TABLE tenants DROP COLUMN password_login;
      DROP TABLE oidc_identities, oidc_logins, auth_providers;
    `);
  }
}
