import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/crypto/canonical-json';
import { AuditEventRow } from './audit-event.entity';
import { toAuditEventDto } from './audit-event.mapper';

export { canonicalJson };

export const GENESIS_HASH = '0'.repeat(64);
/** Events without a tenant (failed logins of unknown users) form the platform chain. */
export const PLATFORM_CHAIN = '*';

export const chainOf = (tenantId: string | null): string => tenantId ?? PLATFORM_CHAIN;

/** The hashed form of an event is its API form, so an exported event (NDJSON, SIEM) can be re-hashed as it is. */
export function canonicalEvent(e: AuditEventRow): string {
  return canonicalJson(toAuditEventDto(e));
}

/** hash = SHA-256(prev_hash ‖ canonical event), hex. */
export function chainHash(prevHash: string, e: AuditEventRow): string {
  return createHash('sha256').update(prevHash).update(canonicalEvent(e)).digest('hex');
}

/** What a checkpoint signs: the chain, its length, its last event and hash. */
export const checkpointMessage = (chain: string, seq: string | number, lastEventId: string, hash: string) => `countersign-audit-v1|${chain}|${seq}|${lastEventId}|${hash}`;
