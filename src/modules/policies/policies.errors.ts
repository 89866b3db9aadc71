import { NotFoundError, ValidationFailedError } from '../../common/errors/app-error';

export class PolicyNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Policy', id);
  }
}

/** 400 with the CEL compiler's message, e.g. `<input>:1:14: found = but expecting end of input`. */
export class ConditionCompileError extends ValidationFailedError {
  constructor(message: string) {
    super([{ field: 'condition', issue: message }], 'The condition is not a valid CEL expression.');
  }
}

export class PolicyFieldError extends ValidationFailedError {
  constructor(field: string, issue: string) {
    super([{ field, issue }]);
  }
}
