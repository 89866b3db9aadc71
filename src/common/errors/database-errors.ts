/** True when an error means a store (PostgreSQL, or Redis for shared rate limits) could not be reached — not a query error. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code) {
    if (['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE'].includes(code)) return true;
    // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now), 53300 (too many
    // connections), 57014 (query_canceled: the pool's statement_timeout, DB_STATEMENT_TIMEOUT_MS, cut a slow statement)
    if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300', '57014'].includes(code)) return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  const name = (error as { name?: unknown }).name;
  if (name === 'MaxRetriesPerRequestError' || /^Connection is closed\.?$/.test(message)) return true; // ioredis
  // TypeORM's query runner lets go of its connection when the connection reports an error (the server went away
  // mid-transaction: 57P01, a reset socket); the transaction's next statement then meets these instead of the cause.
  if (name === 'QueryRunnerProviderAlreadyReleasedError' || name === 'QueryRunnerAlreadyReleasedError') return true;
  if (/Client was closed and is not queryable/.test(message)) return true;
  // pg's query_timeout (the client-side bound when the server cannot cancel: see common/db/bounded-client.ts)
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Cannot use a pool after calling end|^Query read timeout$/i.test(message)) {
    return true;
  }
  if (e.driverError && e.driverError !== error) return isDatabaseUnavailable(e.driverError);
  if (e.cause && e.cause !== error) return isDatabaseUnavailable(e.cause);
  return false;
}

/**
 * SQLSTATEs PostgreSQL raises for a value it cannot take as given: 22021 character_not_in_repertoire (`invalid byte
 * sequence for encoding "UTF8": 0x00`), 22P05 untranslatable_character (`\u0000` in jsonb), 22P02
 * invalid_text_representation (`invalid input syntax for type …`).
 */
const INVALID_INPUT_STATES = new Set(['22021', '22P05', '22P02']);

/**
 * True when PostgreSQL refused a value the client sent (see above): a 400, not a 500. Input checks should catch these
 * first (SPEC §1 "strings"); this is the last line of defence, so one that slips through is still the client's error.
 */
export function isInvalidDatabaseInput(error: unknown, seen = 0): boolean {
  if (!error || typeof error !== 'object' || seen > 3) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && INVALID_INPUT_STATES.has(e.code)) return true;
  if (e.driverError && e.driverError !== error) return isInvalidDatabaseInput(e.driverError, seen + 1);
  if (e.cause && e.cause !== error) return isInvalidDatabaseInput(e.cause, seen + 1);
  return false;
}
