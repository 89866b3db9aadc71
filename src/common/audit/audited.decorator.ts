import { SetMetadata } from '@nestjs/common';
import { AuditAction } from './audit-actions';

export const AUDITED = 'countersign:audited';

/**
 * What a mutation route declares about its audit trail: the action(s) one call writes, or why the route writes none
 * through the audit interceptor. Start-up refuses a POST, PUT, PATCH or DELETE route that declares neither.
 */
export type AuditedMetadata =
  | { kind: 'action'; actions: readonly [AuditAction, ...AuditAction[]]; auditOnly?: true }
  | { kind: 'exempt'; reason: string };

/**
 * The route's audit event. The audit interceptor runs the handler in one transaction and, unless the service already
 * recorded one of `actions` in it (services record domain events with their payloads), writes the first one from the
 * route's metadata and result. More than one action: the outcomes one call may have (e.g. `user.added` or
 * `user.invited`); any of them satisfies the route.
 */
export const Audited = (action: AuditAction, ...alternatives: AuditAction[]) =>
  SetMetadata(AUDITED, { kind: 'action', actions: [action, ...alternatives] } satisfies AuditedMetadata);

/**
 * A route that changes nothing and records that it was called (a permission check): its only write is the audit
 * event, one INSERT, atomic by itself. The interceptor opens no transaction around it, so its reads run on the pool
 * and its latency holds no BEGIN/COMMIT round trips; the event is still written before the answer, or the call fails.
 */
export const AuditedRead = (action: AuditAction) => SetMetadata(AUDITED, { kind: 'action', actions: [action], auditOnly: true } satisfies AuditedMetadata);

/** A mutation route that the interceptor leaves alone, with the reason (shown in the route snapshot). */
export const AuditExempt = (reason: string) => SetMetadata(AUDITED, { kind: 'exempt', reason } satisfies AuditedMetadata);

/** The route table's one-line form: `workspace.created`, `user.added | user.invited`, `exempt: <reason>`. */
export function describeAudit(metadata: AuditedMetadata | undefined): string | undefined {
  if (!metadata) return undefined;
  if (metadata.kind === 'exempt') return `exempt: ${metadata.reason}`;
  return metadata.auditOnly ? `${metadata.actions.join(' | ')} (read: no transaction)` : metadata.actions.join(' | ');
}
