import { ActorType } from '../../common/audit/audit.types';

export interface AuditEventRow {
  id: string;
  occurred_at: Date;
  tenant_id: string | null;
  actor_type: ActorType;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: 'success' | 'failure';
  request_id: string | null;
  correlation_id: string | null;
  ip: string | null;
  user_agent: string | null;
  payload: Record<string, unknown>;
}

export interface AuditSealRow {
  event_id: string;
  chain: string;
  seq: string;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointRow {
  id: string;
  chain: string;
  seq: string;
  last_event_id: string;
  hash: string;
  signature: string;
  /** The signing key (see `AuditSigner`); null for checkpoints written before key ids were recorded. */
  key_id: string | null;
  created_at: Date;
}
