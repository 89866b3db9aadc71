import { AppError, ConflictError, NotFoundError } from '../../common/errors/app-error';

export class WorkspaceNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Workspace', id);
  }
}

export class EnvironmentNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Environment', id);
  }
}

/** The environment when one was named, else the workspace: what a caller's scope reference failed to find. */
export const scopeNotFound = (workspaceId: string, environmentId?: string | null): NotFoundError =>
  environmentId ? new EnvironmentNotFoundError(environmentId) : new WorkspaceNotFoundError(workspaceId);

export class ScopeInUseError extends AppError {
  constructor(what: string, usedBy: string[]) {
    super(409, 'IN_USE', `The ${what} is still in use (${usedBy.join(', ')}); revoke or finish those first.`, [{ used_by: usedBy }]);
  }
}

export class WorkspaceSlugTakenError extends ConflictError {
  constructor(slug: string) {
    super(`A workspace with slug "${slug}" already exists.`, 'CONFLICT', [{ field: 'slug', issue: 'is taken' }]);
  }
}

export class EnvironmentNameTakenError extends ConflictError {
  constructor(name: string) {
    super(`An environment named "${name}" already exists in this workspace.`, 'CONFLICT', [{ field: 'name', issue: 'is taken' }]);
  }
}
