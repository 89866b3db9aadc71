import { AppError, ConflictError, NotFoundError, ValidationFailedError } from '../../common/errors/app-error';

export class WorkflowNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Workflow', id);
  }
}

export class BuiltInWorkflowError extends ConflictError {
  constructor() {
    super('The built-in default workflow cannot be changed or deleted; create a workflow and point a policy at it instead.');
  }
}

export class WorkflowInUseError extends AppError {
  constructor() {
    super(409, 'IN_USE', 'A policy points at this workflow; change or delete the policy first.');
  }
}

/** A stage names a group that is not in the tenant (404 naming the field and the ids). */
export class ApproverGroupNotFoundError extends AppError {
  constructor(index: number, ids: string[]) {
    super(404, 'NOT_FOUND', `Group ${ids.join(', ')} was not found.`, [{ field: `stages[${index}].approver_group_ids`, issue: `unknown group ${ids.join(', ')}` }]);
  }
}

export class StageWithoutApproversError extends ValidationFailedError {
  constructor(index: number) {
    super([{ field: `stages[${index}].approver_role_ids`, issue: 'a stage needs at least one approver role id, approver user id or approver group id' }]);
  }
}
