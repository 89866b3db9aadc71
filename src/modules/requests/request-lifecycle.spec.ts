import { allowedActions, awaitsApproval, can, IN_FLIGHT_STATUSES, InvalidTransition, isTerminal, jobOutcome, REQUEST_STATUSES, RequestAction, RequestStatus, transition } from './request-lifecycle';

/** Every (state, action) pair, with the expected outcome: the whole table, not a sample. */
const EXPECTED: Record<RequestStatus, Partial<Record<RequestAction, RequestStatus>>> = {
  draft: { submit: 'submitted', cancel: 'cancelled' },
  submitted: { require_approval: 'pending_approval', auto_approve: 'approved', deny: 'rejected', cancel: 'cancelled', break_glass: 'approved' },
  pending_approval: { approve_stage: 'pending_approval', approve_final: 'approved', reject: 'rejected', expire: 'expired', cancel: 'cancelled', break_glass: 'approved' },
  approved: { execute: 'executing', cancel: 'cancelled', fail: 'failed' },
  executing: { complete: 'completed', fail: 'failed' },
  completed: { rollback: 'rolling_back' },
  failed: { rollback: 'rolling_back' },
  rejected: {},
  expired: {},
  cancelled: {},
  rolling_back: { rollback_complete: 'rolled_back', rollback_fail: 'failed' },
  rolled_back: {},
};
const ACTIONS: RequestAction[] = [
  'submit', 'require_approval', 'auto_approve', 'deny', 'approve_stage', 'approve_final', 'reject', 'expire', 'cancel', 'break_glass', 'execute', 'complete', 'fail', 'rollback', 'rollback_complete', 'rollback_fail',
];

describe('request lifecycle', () => {
  for (const status of REQUEST_STATUSES) {
    for (const action of ACTIONS) {
      const expected = EXPECTED[status][action];
      it(`${status} --${action}--> ${expected ?? 'refused'}`, () => {
        if (expected) {
          expect(transition(status, action)).toBe(expected);
          expect(can(status, action)).toBe(true);
        } else {
          expect(() => transition(status, action)).toThrow(InvalidTransition);
          expect(can(status, action)).toBe(false);
        }
      });
    }
  }

  it('names the allowed client actions in the refusal', () => {
    try {
      transition('rejected', 'approve_final');
      throw new Error('unreachable');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidTransition);
      expect((e as InvalidTransition).allowed).toEqual([]);
    }
    expect(allowedActions('pending_approval')).toEqual(['approve_stage', 'approve_final', 'reject', 'cancel', 'break_glass']);
  });

  it('knows when a request waits for approvals', () => {
    expect(REQUEST_STATUSES.filter(awaitsApproval)).toEqual(['pending_approval']);
  });

  it('knows the terminal states', () => {
    expect(REQUEST_STATUSES.filter(isTerminal)).toEqual(['rejected', 'expired', 'cancelled', 'rolled_back']);
  });

  it('a job ends an execution (complete/fail) or a rollback (rolled_back/failed); elsewhere it changes nothing', () => {
    expect(jobOutcome('executing', true)).toBe('complete');
    expect(jobOutcome('executing', false)).toBe('fail');
    expect(jobOutcome('rolling_back', true)).toBe('rollback_complete');
    expect(jobOutcome('rolling_back', false)).toBe('rollback_fail');
    expect(transition('rolling_back', jobOutcome('rolling_back', false)!)).toBe('failed');
    expect(jobOutcome('approved', false)).toBe('fail');
    for (const status of ['completed', 'failed', 'rolled_back', 'cancelled'] as const) {
      expect(jobOutcome(status, true)).toBeNull();
      expect(jobOutcome(status, false)).toBeNull();
    }
  });

  it('in flight: a decision, a job or a rollback is pending (completed and failed are not)', () => {
    expect(IN_FLIGHT_STATUSES).toEqual(['draft', 'submitted', 'pending_approval', 'approved', 'executing', 'rolling_back']);
    expect(IN_FLIGHT_STATUSES.filter(isTerminal)).toEqual([]);
  });
});
