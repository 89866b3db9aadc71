import { AppError, NotFoundError, ValidationFailedError } from '../../common/errors/app-error';

export class JobNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Job', id);
  }
}

export class LeaseLostError extends AppError {
  constructor() {
    super(409, 'LEASE_LOST', 'This lease is no longer current: the job expired and moved on, or was completed differently.');
  }
}

export class JobRoutingError extends ValidationFailedError {
  constructor() {
    super([{ field: 'agent_id', issue: 'give agent_id, or capability with workspace_id' }]);
  }
}
