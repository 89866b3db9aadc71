import { MigrationInterface, QueryRunner } from 'typeorm';

/** The sealer reads unsealed events by transaction id above its watermark: a range scan, not a full scan per tick. */
export class AuditSealerIndex1764000600000 implements MigrationInterface {
  name = 'AuditSealerIndex1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_events_txid_idx ON audit_events (txid)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_txid_idx`);
  }
}
