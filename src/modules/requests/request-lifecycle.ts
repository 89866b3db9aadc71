/**
 * The request state machine of SPEC §4, as data. Services ask it what an action does from a state; they never compare
 * status strings themselves.
 *
 * draft ─submit→ submitted ─require_approval→ pending_approval ─approve_final→ approved ─execute→ executing ─complete→ completed
 *                    │  └─auto_approve→ approved          │ └─reject→ rejected       │                    └─fail→ failed
 *                    └─deny→ rejected                     └─expire→ expired          completed/failed ─rollback→ rolling_back ─…→ rolled_back
 * cancel from draft, submitted, pending_approval, approved; break_glass from submitted or pending_approval.
 */
export const REQUEST_STATUSES = [
  'draft',
  'submitted',
  'pending_approval',
  'approved',
  'executing',
  'completed',
  'failed',
  'rejected',
  'expired',
  'cancelled',
  'rolling_back',
  'rolled_back',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export type RequestAction =
  | 'submit'
  | 'require_approval'
  | 'auto_approve'
  | 'deny'
  | 'approve_stage'
  | 'approve_final'
  | 'reject'
  | 'expire'
  | 'cancel'
  | 'break_glass'
  | 'execute'
  | 'complete'
  | 'fail'
  | 'rollback'
  | 'rollback_complete'
  | 'rollback_fail';

const TRANSITIONS: Readonly<Record<RequestAction, Partial<Record<RequestStatus, RequestStatus>>>> = {
  submit: { draft: 'submitted' },
  require_approval: { submitted: 'pending_approval' },
  auto_approve: { submitted: 'approved' },
  deny: { submitted: 'rejected' },
  approve_stage: { pending_approval: 'pending_approval' },
  approve_final: { pending_approval: 'approved' },
  reject: { pending_approval: 'rejected' },
  expire: { pending_approval: 'expired' },
  cancel: { draft: 'cancelled', submitted: 'cancelled', pending_approval: 'cancelled', approved: 'cancelled' },
  break_glass: { submitted: 'approved', pending_approval: 'approved' },
  execute: { approved: 'executing' },
  complete: { executing: 'completed' },
  fail: { executing: 'failed', approved: 'failed' },
  rollback: { completed: 'rolling_back', failed: 'rolling_back' },
  rollback_complete: { rolling_back: 'rolled_back' },
  rollback_fail: { rolling_back: 'failed' },
};

/**
 * Requests still under way: a decision, a job or a rollback is pending. `completed` and `failed` are not (a rollback
 * may still be asked for, but nothing runs), nor are the terminal states.
 */
export const IN_FLIGHT_STATUSES: readonly RequestStatus[] = ['draft', 'submitted', 'pending_approval', 'approved', 'executing', 'rolling_back'];

/** Actions a client can ask for (the others are the system's reactions). */
export const CLIENT_ACTIONS: readonly RequestAction[] = ['submit', 'approve_stage', 'approve_final', 'reject', 'cancel', 'break_glass', 'execute', 'rollback'];

export class InvalidTransition extends Error {
  constructor(
    readonly current: RequestStatus,
    readonly action: RequestAction,
    readonly allowed: RequestAction[],
  ) {
    super(`cannot ${action} a request that is ${current}`);
  }
}

/** The state after `action` from `current`, or throws `InvalidTransition` listing what is allowed from `current`. */
export function transition(current: RequestStatus, action: RequestAction): RequestStatus {
  const next = TRANSITIONS[action][current];
  if (!next) throw new InvalidTransition(current, action, allowedActions(current));
  return next;
}

export function can(current: RequestStatus, action: RequestAction): boolean {
  return TRANSITIONS[action][current] !== undefined;
}

/** Client actions possible from a state (for error details and UIs). */
export function allowedActions(current: RequestStatus): RequestAction[] {
  return CLIENT_ACTIONS.filter((a) => can(current, a));
}

/**
 * What the end of the request's current job does: an execution completes or fails; a rollback job rolls back or
 * fails the request. Null when the request is not waiting for a job (a late or stray completion changes nothing).
 */
export type JobOutcome = Extract<RequestAction, 'complete' | 'fail' | 'rollback_complete' | 'rollback_fail'>;

export function jobOutcome(status: RequestStatus, succeeded: boolean): JobOutcome | null {
  const action: JobOutcome = status === 'rolling_back' ? (succeeded ? 'rollback_complete' : 'rollback_fail') : succeeded ? 'complete' : 'fail';
  return can(status, action) ? action : null;
}

/** The request waits for approvals (a stage can be decided). */
export function awaitsApproval(status: RequestStatus): boolean {
  return can(status, 'approve_stage');
}

export function isTerminal(status: RequestStatus): boolean {
  return (Object.keys(TRANSITIONS) as RequestAction[]).every((a) => !can(status, a));
}
