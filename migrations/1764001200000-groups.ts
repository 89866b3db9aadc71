import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Groups (issue 15): a tenant's teams, local or managed by an identity provider (`managed_by_provider_id`, whose
 * memberships only sign-in sync writes). A role assignment targets a user or a group (`user_roles.group_id`, exactly
 * one of the two), and a member holds their groups' assignments at those assignments' scopes.
 *
 * Composite foreign keys (tenant_id, group_id) keep a membership or an assignment in its group's tenant. Deleting a
 * group removes its memberships and assignments with it (the service deletes and audits them first; the cascade is
 * the backstop). Memberships and group deletions announce the tenant like every other table a principal is made of
 * (see 1764001100000-principal-invalidation): a removed membership is refused on the next request on every replica.
 */
const TRIGGERS: { table: string; events: string }[] = [
  { table: 'groups', events: 'DELETE' },
  { table: 'group_members', events: 'INSERT OR UPDATE OR DELETE' },
];

export class Groups1764001200000 implements MigrationInterface {
  name = 'Groups1764001200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE groups (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        managed_by_provider_id text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX groups_tenant_name_key ON groups (tenant_id, name);
      CREATE UNIQUE INDEX groups_tenant_id_key ON groups (tenant_id, id);
      CREATE TRIGGER groups_updated_at BEFORE UPDATE ON groups FOR EACH ROW EXECUTE FUNCTION set_updated_at();

      CREATE TABLE group_members (
        tenant_id text NOT NULL,
        group_id text NOT NULL,
        user_id text NOT NULL REFERENCES users(id),
        added_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, user_id),
        FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX group_members_user_idx ON group_members (tenant_id, user_id);

      ALTER TABLE user_roles ALTER COLUMN user_id DROP NOT NULL;
      ALTER TABLE user_roles ADD COLUMN group_id text;
      ALTER TABLE user_roles ADD CONSTRAINT user_roles_group_fkey FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE;
      ALTER TABLE user_roles ADD CONSTRAINT user_roles_one_assignee CHECK ((user_id IS NULL) <> (group_id IS NULL));
      CREATE UNIQUE INDEX user_roles_group_unique_key ON user_roles (tenant_id, group_id, role_id, scope_type, scope_id) WHERE group_id IS NOT NULL;
      CREATE INDEX user_roles_group_idx ON user_roles (tenant_id, group_id) WHERE group_id IS NOT NULL;
    `);
    for (const t of TRIGGERS) {
      await q.query(`CREATE TRIGGER ${t.table}_principals_changed AFTER ${t.events} ON ${t.table} FOR EACH ROW EXECUTE FUNCTION countersign_principals_changed('tenant_id')`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM user_roles WHERE group_id IS NOT NULL;
      DROP INDEX user_roles_group_idx;
      DROP INDEX user_roles_group_unique_key;
      ALTER TABLE user_roles DROP CONSTRAINT user_roles_one_assignee;
      ALTER TABLE user_roles DROP CONSTRAINT user_roles_group_fkey;
      ALTER TABLE user_roles DROP COLUMN group_id;
      ALTER TABLE user_roles ALTER COLUMN user_id SET NOT NULL;
      DROP TABLE group_members, groups;
    `);
  }
}
