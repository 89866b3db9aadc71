import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable, isInvalidDatabaseInput } from './database-errors';

describe('isDatabaseUnavailable', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }],
    [{ code: '08006' }],
    [{ code: '57P01' }],
    [new Error('Connection terminated unexpectedly')],
    [new Error('timeout exceeded when trying to connect')],
    [{ driverError: { code: 'ECONNRESET' } }],
    [Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })],
    [new Error('Connection is closed.')],
    [{ name: 'QueryFailedError', message: 'Query read timeout', driverError: new Error('Query read timeout') }],
    [new QueryRunnerProviderAlreadyReleasedError()],
    [new QueryRunnerAlreadyReleasedError()],
    [new Error('Client was closed and is not queryable')],
  ])('%p means the database is unreachable', (error) => expect(isDatabaseUnavailable(error)).toBe(true));

  it('a statement cancelled by statement_timeout (57014) means the store is unavailable: 503, not 500', () => {
    const cancelled = { name: 'QueryFailedError', message: 'Query failed', driverError: { code: '57014', message: 'canceling statement due to statement timeout' } };
    expect(isDatabaseUnavailable(cancelled)).toBe(true);
    expect(isDatabaseUnavailable({ code: '57014' })).toBe(true);
  });

  it.each([[{ code: '23505' }], [new Error('syntax error at or near')], [null], ['text']])('%p is an ordinary error', (error) =>
    expect(isDatabaseUnavailable(error)).toBe(false),
  );
});

describe('isInvalidDatabaseInput', () => {
  it.each([
    [{ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' }],
    [{ code: '22P05', message: 'unsupported Unicode escape sequence' }],
    [{ code: '22P02', message: 'invalid input syntax for type integer: "x"' }],
    [{ message: 'Query failed', driverError: { code: '22021' } }],
    [{ cause: { code: '22P05' } }],
  ])('%p is a value the client sent that PostgreSQL refused', (error) => expect(isInvalidDatabaseInput(error)).toBe(true));

  it.each([[{ code: '23505' }], [{ code: '08006' }], [new Error('invalid byte sequence')], [null], ['22021']])('%p is not', (error) =>
    expect(isInvalidDatabaseInput(error)).toBe(false),
  );
});
