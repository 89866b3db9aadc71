import { ApiError } from './api-client';

/** 401 (unknown or revoked secret) and 403 (the secret is not this agent's) can't get better by retrying. */
export function isCredentialFailure(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof ApiError) return { error: err.message, status: err.status, code: err.code, server_request_id: err.requestId };
  return { error: errorMessage(err) };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
