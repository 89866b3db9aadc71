import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Invitations from `POST /users` name an email, not a user: the account is created (new email) or joined (existing
 * account, with its own password) only when the invitation is accepted, so inviting never reveals or touches another
 * tenant's user. `invitee_id` is the id the tenant sees while the invitation is open (and the new user's id). Rows
 * with `user_id` are invitations issued with their account (tenant creation).
 */
export class InvitationsByEmail1764000700000 implements MigrationInterface {
  name = 'InvitationsByEmail1764000700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE invitations
        ALTER COLUMN user_id DROP NOT NULL,
        ADD COLUMN email text,
        ADD COLUMN name text,
        ADD COLUMN invitee_id text,
        ADD CONSTRAINT invitations_target_check CHECK (user_id IS NOT NULL OR (email IS NOT NULL AND name IS NOT NULL AND invitee_id IS NOT NULL));
      CREATE UNIQUE INDEX invitations_invitee_key ON invitations (invitee_id);
      CREATE UNIQUE INDEX invitations_open_email_key ON invitations (tenant_id, lower(email)) WHERE accepted_at IS NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX invitations_open_email_key;
      DROP INDEX invitations_invitee_key;
      DELETE FROM invitations WHERE user_id IS NULL;
      ALTER TABLE invitations DROP CONSTRAINT invitations_target_check, DROP COLUMN invitee_id, DROP COLUMN name, DROP COLUMN email,
        ALTER COLUMN user_id SET NOT NULL;
    `);
  }
}
