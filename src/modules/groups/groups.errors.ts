import { AppError, ConflictError, NotFoundError } from '../../common/errors/app-error';

export class GroupNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Group', id);
  }
}

export class GroupMemberNotFoundError extends NotFoundError {
  constructor(groupId: string, userId: string) {
    super(`Member ${userId} of group`, groupId);
  }
}

export class GroupNameTakenError extends ConflictError {
  constructor(name: string) {
    super(`A group named "${name}" already exists.`, 'CONFLICT', [{ field: 'name', issue: 'is taken' }]);
  }
}

export class AlreadyGroupMemberError extends ConflictError {
  constructor() {
    super('The user is already a member of this group.', 'CONFLICT', [{ field: 'user_id', issue: 'is already a member' }]);
  }
}

/** Memberships of a provider-managed group are written by sign-in sync only (SPEC: local groups only → 409). */
export class ProviderManagedGroupError extends ConflictError {
  constructor(providerId: string) {
    super(`The group's members are managed by identity provider ${providerId} and synced at each sign-in; change them at the provider.`);
  }
}

export class GroupManagedElsewhereError extends ConflictError {
  constructor(groupId: string, providerId: string) {
    super(`Group ${groupId} is already managed by identity provider ${providerId}.`, 'CONFLICT', [{ field: 'group_mappings', issue: `group ${groupId} is managed by another provider` }]);
  }
}

export class GroupInUseError extends AppError {
  constructor(usedBy: string[]) {
    super(409, 'IN_USE', `The group is still in use (${usedBy.join(', ')}); change those first.`, [{ used_by: usedBy }]);
  }
}
