/** Keys whose values never reach a log line or an audit payload. */
const SENSITIVE_KEY = /^(password|new_password|current_password|secret|.*_secret|value|token|.*_token|authorization|cookie|set-cookie|x-api-key|x-agent-secret|api_key|private_key|master_key|signing_key|dek|plaintext)$/i;

export const REDACTED = '[REDACTED]';

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** A copy of `input` with every sensitive key's value replaced, at any depth. Errors keep name/message/stack. */
export function redactDeep(input: unknown, depth = 0): unknown {
  if (input === null || typeof input !== 'object') return input;
  if (depth > 8) return '[TRUNCATED]';
  if (Array.isArray(input)) return input.map((item) => redactDeep(item, depth + 1));
  if (input instanceof Date || input instanceof Error || Buffer.isBuffer(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    out[key] = isSensitiveKey(key) && value !== undefined && value !== null ? REDACTED : redactDeep(value, depth + 1);
  }
  return out;
}
