import { AppError, NotFoundError, ValidationFailedError } from '../../common/errors/app-error';

export class AgentNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Agent', id);
  }
}

export class AgentPathMismatchError extends AppError {
  constructor() {
    super(403, 'PERMISSION_DENIED', 'This agent secret belongs to another agent than the one in the path.', [{ permission: 'agent:self' }]);
  }
}

export class InvalidPublicKeyError extends ValidationFailedError {
  constructor() {
    super([{ field: 'public_key', issue: 'is not a valid X25519 public key' }]);
  }
}

export class DataKeyNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Data key', id);
  }
}
