import { isDatabaseUnavailable } from './database-errors';

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
  ])('%p means the database is unreachable', (error) => expect(isDatabaseUnavailable(error)).toBe(true));

  it.each([[{ code: '23505' }], [new Error('syntax error at or near')], [null], ['text']])('%p is an ordinary error', (error) =>
    expect(isDatabaseUnavailable(error)).toBe(false),
  );
});
