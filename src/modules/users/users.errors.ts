import { ConflictError, NotFoundError } from '../../common/errors/app-error';

export class UserNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('User', id);
  }
}

export class UserAlreadyMemberError extends ConflictError {
  constructor(email: string) {
    super(`${email} is already a member of this tenant.`, 'CONFLICT', [{ field: 'email', issue: 'is taken' }]);
  }
}
