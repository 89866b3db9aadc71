import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { AppError, NotFoundError, ValidationFailedError } from '../../common/errors/app-error';
import { InvalidTransition } from './request-lifecycle';

export class RequestNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Request', id);
  }
}

export class WrapNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Wrap', id);
  }
}

export class InvalidStateTransitionError extends AppError {
  constructor(e: InvalidTransition, message?: string) {
    super(409, 'INVALID_STATE_TRANSITION', message ?? `The request is ${e.current}; it cannot ${e.action.replace('_', ' ')}.`, [{ current_status: e.current, allowed: e.allowed }]);
  }
}

export class SelfApprovalError extends AppError {
  constructor() {
    super(422, 'SELF_APPROVAL_FORBIDDEN', 'You cannot approve or reject your own request.');
  }
}

export class NotEligibleApproverError extends AppError {
  constructor(reason: string) {
    super(422, 'NOT_AN_ELIGIBLE_APPROVER', `You are not an eligible approver for the current stage: ${reason}.`, [{ reason }]);
  }
}

export class AlreadyDecidedError extends AppError {
  constructor() {
    super(422, 'ALREADY_DECIDED', 'You have already decided this stage.');
  }
}

export class PolicyDeniedError extends AppError {
  constructor(policyId: string | null, explanation: unknown[]) {
    super(422, 'POLICY_DENIED', 'A policy denies this request.', [{ policy_id: policyId, explanation }]);
  }
}

export class InvalidTargetError extends AppError {
  constructor(message: string, details: unknown[] | null = null) {
    super(422, 'INVALID_TARGET', message, details);
  }
}

export class WrapConsumedError extends AppError {
  constructor() {
    super(410, 'WRAP_CONSUMED', 'This wrap has already been revealed; it is gone.');
  }
}

export class WrapExpiredError extends AppError {
  constructor() {
    super(410, 'WRAP_EXPIRED', 'This wrap has expired.');
  }
}

export class RequestFieldError extends ValidationFailedError {
  constructor(field: string, issue: string) {
    super([{ field, issue }]);
  }
}

/** Only users make requests: an API key or agent credential is refused even when it holds `request.create`. */
export class RequesterNotUserError extends PermissionDeniedError {
  constructor() {
    super('request.create', 'Requests are made by users.');
  }
}
