import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/crypto/canonical-json';
import { AuditEventRow } from './audit-event.entity';

export { canonicalJson };

export const GENESIS_HASH = '0'.repeat(64);
/** Events without a tenant (failed logins of unknown users) form the platform chain. */
export const PLATFORM_CHAIN = '*';

export const chainOf = (tenantId: string | null): string => tenantId ?? PLATFORM_CHAIN;

export function canonicalEvent(e: AuditEventRow): string {
  return canonicalJson({
    id: e.id,
    occurred_at: new Date(e.occurred_at).toISOString(),
    tenant_id: e.tenant_id,
    actor: { type: e.actor_type, id: e.actor_id, label: e.actor_label },
    action: e.action,
    resource_type: e.resource_type,
    resource_id: e.resource_id,
    outcome: e.outcome,
    request_id: e.request_id,
    correlation_id: e.correlation_id,
    ip: e.ip,
    user_agent: e.user_agent,
    payload: e.payload,
  });
}

/** hash = SHA-256(prev_hash ‖ canonical event), hex. */
export function chainHash(prevHash: string, e: AuditEventRow): string {
  return createHash('sha256').update(prevHash).update(canonicalEvent(e)).digest('hex');
}

/** What a checkpoint signs: the chain, its length, its last event and hash. */
export const checkpointMessage = (chain: string, seq: string | number, lastEventId: string, hash: string) => `countersign-audit-v1|${chain}|${seq}|${lastEventId}|${hash}`;
