import { AppError, ConflictError, NotFoundError, ValidationFailedError } from '../../common/errors/app-error';

export class RoleNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Role', id);
  }
}

export class AssignmentNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Role assignment', id);
  }
}

export class RoleNameTakenError extends ConflictError {
  constructor(name: string) {
    super(`A role named "${name}" already exists.`, 'CONFLICT', [{ field: 'name', issue: 'is taken' }]);
  }
}

export class BuiltInRoleError extends ConflictError {
  constructor() {
    super('Built-in roles cannot be changed or deleted; create a custom role instead.');
  }
}

export class RoleInUseError extends AppError {
  constructor() {
    super(409, 'IN_USE', 'The role is assigned; remove its assignments first.');
  }
}

export class AssignmentExistsError extends ConflictError {
  constructor(assignee: 'user' | 'group' = 'user') {
    super(`The ${assignee} already has this role at this scope.`);
  }
}

/** The group a role assignment names is not in the tenant. */
export class AssigneeGroupNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Group', id);
  }
}

export class AssigneeRequiredError extends ValidationFailedError {
  constructor(field: 'user_id' | 'group_id', issue: string) {
    super([{ field, issue }]);
  }
}

export class OwnerToGroupError extends ValidationFailedError {
  constructor() {
    super([{ field: 'role_id', issue: 'the built-in owner role is assigned to users only, not to groups' }]);
  }
}

export class UnknownPermissionError extends ValidationFailedError {
  constructor(field: string, unknown: string[]) {
    super(unknown.map((p) => ({ field, issue: `unknown permission "${p}"` })), 'Unknown permission.');
  }
}
