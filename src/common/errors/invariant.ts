/**
 * A broken invariant: data the code relies on by construction is missing (a pending request without its workflow
 * snapshot, a row a locked update should have returned). Not a client error: the filter answers 500 and logs it.
 */
export class InvariantViolationError extends Error {
  constructor(what: string) {
    super(`invariant violated: ${what}`);
    this.name = 'InvariantViolationError';
  }
}

/** `value`, which the caller's invariant says is present (`what` names it for the log when it is not). */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new InvariantViolationError(what);
  return value;
}
