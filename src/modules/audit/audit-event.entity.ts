import { ActorType } from '../../common/audit/audit.types';
import { TableRow } from '../../common/db/row-types';

/** An event as the API reads it (`txid` is the sealer's, never selected). */
export type AuditEventRow = Omit<TableRow<'audit_events', { actor_type: ActorType; payload: Record<string, unknown> }>, 'txid'>;

export type AuditSealRow = Omit<TableRow<'audit_seals'>, 'sealed_at'>;

/** `key_id`: the signing key (see `AuditSigner`); null for checkpoints written before key ids were recorded. */
export type AuditCheckpointRow = TableRow<'audit_checkpoints'>;
