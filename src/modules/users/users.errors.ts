import { AppError, ConflictError, NotFoundError } from '../../common/errors/app-error';

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

export class UserAlreadyInvitedError extends ConflictError {
  constructor(email: string) {
    super(`${email} already has an open invitation to this tenant.`, 'CONFLICT', [{ field: 'email', issue: 'is invited' }]);
  }
}

export class InvitationPendingError extends ConflictError {
  constructor() {
    super('The invitation has not been accepted yet; the user can be changed once they are a member.');
  }
}

/** SPEC §2: only an owner can demote, disable or otherwise change an owner's standing in the tenant. */
export class OwnerProtectedError extends AppError {
  constructor() {
    super(403, 'PERMISSION_DENIED', 'Only an owner of this tenant can change an owner.', [{ role: 'owner', scope: 'tenant' }]);
  }
}

/** SPEC §2: the last active owner of a tenant can never be removed or disabled. */
export class LastOwnerError extends AppError {
  constructor() {
    super(409, 'LAST_OWNER', 'This is the last active owner of the tenant; make someone else owner first.');
  }
}
