import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every write that can change who a caller is or what they hold announces the tenant it touched, so replicas can
 * cache resolved principals for a second and still refuse a revoked credential at once:
 * - `NOTIFY countersign_principals, '<tenant id>'` (`'*'` for global user rows) reaches every replica at commit;
 * - `RAISE NOTICE 'countersign_principals:<tenant id>'` reaches the writing connection before commit, so the replica
 *   that revokes stops trusting its cache for that tenant even before the notification comes back to it.
 * Triggers, not service calls: a new write path cannot forget. Columns that change on every request (last seen,
 * last used) do not fire.
 */
const TRIGGERS: { name?: string; table: string; key: string; events: string; when?: string }[] = [
  { table: 'sessions', key: 'tenant_id', events: 'UPDATE OF revoked_at, expires_at OR DELETE' },
  { table: 'tenant_members', key: 'tenant_id', events: 'INSERT OR UPDATE OR DELETE' },
  { table: 'tenants', key: 'id', events: 'UPDATE OF status, deleted_at OR DELETE' },
  { table: 'users', key: '*', events: 'UPDATE OF status, is_platform_admin, email OR DELETE' },
  { table: 'user_roles', key: 'tenant_id', events: 'INSERT OR UPDATE OR DELETE' },
  { table: 'roles', key: 'tenant_id', events: 'UPDATE OF permissions OR DELETE' },
  { table: 'api_keys', key: 'tenant_id', events: 'UPDATE OF revoked_at, expires_at, permissions OR DELETE' },
  // A heartbeat rewrites `capabilities` with the same value: fire only when something an agent principal holds changed.
  {
    table: 'agents',
    key: 'tenant_id',
    events: 'UPDATE',
    when: 'OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.capabilities IS DISTINCT FROM NEW.capabilities OR OLD.public_key IS DISTINCT FROM NEW.public_key',
  },
  { name: 'agents_deleted_principals_changed', table: 'agents', key: 'tenant_id', events: 'DELETE' },
  { table: 'workspaces', key: 'tenant_id', events: 'UPDATE OF status, deleted_at OR DELETE' },
  { table: 'environments', key: 'tenant_id', events: 'UPDATE OR DELETE' },
  { table: 'plugins', key: 'tenant_id', events: 'INSERT OR UPDATE OF enabled, permission_keys OR DELETE' },
];

export class PrincipalInvalidation1764001100000 implements MigrationInterface {
  name = 'PrincipalInvalidation1764001100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION countersign_principals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        tenant text;
      BEGIN
        IF TG_ARGV[0] = '*' THEN
          tenant := '*';
        ELSIF TG_OP = 'DELETE' THEN
          tenant := to_jsonb(OLD) ->> TG_ARGV[0];
        ELSE
          tenant := to_jsonb(NEW) ->> TG_ARGV[0];
        END IF;
        PERFORM pg_notify('countersign_principals', tenant);
        RAISE NOTICE 'countersign_principals:%', tenant;
        RETURN NULL;
      END
      $$`);
    for (const t of TRIGGERS) {
      const when = t.when ? ` WHEN (${t.when})` : '';
      await q.query(`CREATE TRIGGER ${t.name ?? `${t.table}_principals_changed`} AFTER ${t.events} ON ${t.table} FOR EACH ROW${when} EXECUTE FUNCTION countersign_principals_changed('${t.key}')`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of TRIGGERS) await q.query(`DROP TRIGGER IF EXISTS ${t.name ?? `${t.table}_principals_changed`} ON ${t.table}`);
    await q.query('DROP FUNCTION IF EXISTS countersign_principals_changed()');
  }
}
