import { createHash } from 'node:crypto';
import { AuditEventRow } from './audit-event.entity';

export const GENESIS_HASH = '0'.repeat(64);
/** Events without a tenant (failed logins of unknown users) form the platform chain. */
export const PLATFORM_CHAIN = '*';

export const chainOf = (tenantId: string | null): string => tenantId ?? PLATFORM_CHAIN;

/** JSON with object keys sorted at every depth: the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

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
