import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each checkpoint records which Ed25519 key signed it (a short digest of the public key), so that after a rotation of
 * AUDIT_SIGNING_KEY the checkpoints of the previous key still verify. Null: signed before key ids were recorded.
 */
export class AuditCheckpointKeyId1764000800000 implements MigrationInterface {
  name = 'AuditCheckpointKeyId1764000800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_checkpoints ADD COLUMN key_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_checkpoints DROP COLUMN key_id`);
  }
}
