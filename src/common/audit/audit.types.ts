import type { AuditAction } from './audit-actions';

export type ActorType = 'user' | 'api_key' | 'agent' | 'system' | 'anonymous';

export interface AuditActor {
  type: ActorType;
  id: string | null;
  label: string | null;
}

/** What a service says happened; request id, correlation id, ip, user agent and the actor come from the context. */
export interface AuditInput {
  /** `<resource>.<verb>` in the past tense, one of the catalog (`audit-actions.ts`): a typo fails `tsc`. */
  action: AuditAction;
  resourceType: string;
  resourceId?: string | null;
  outcome?: 'success' | 'failure';
  /** Redacted before it is written: secrets, tokens, passwords and values never reach the table. */
  payload?: Record<string, unknown>;
  /** Defaults to the caller's tenant. */
  tenantId?: string | null;
  /** Defaults to the authenticated principal, else `anonymous`. */
  actor?: AuditActor;
}

/** Port through which cross-cutting code (the error filter) records events it alone sees, e.g. permission denials. */
export const AUDIT_SINK = Symbol('AUDIT_SINK');

export interface AuditSink {
  /** Written in the caller's transaction (the unit of work): commits or rolls back with the change it describes. */
  record(input: AuditInput): Promise<void>;
  /** Written in its own transaction: survives the failing request's rollback. */
  recordDetached(input: AuditInput): Promise<void>;
}
