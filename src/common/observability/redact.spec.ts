import { REDACTED, redactDeep } from './redact';

describe('redactDeep', () => {
  it('replaces sensitive keys at any depth and keeps the rest', () => {
    const input = {
      email: 'a@b.c',
      password: 'hunter2',
      nested: { refresh_token: 'csr_x', agent_secret: 'x', list: [{ value: 's3cr3t', name: 'n' }] },
      headers: { authorization: 'Bearer x', 'x-api-key': 'csk_x' },
    };
    expect(redactDeep(input)).toEqual({
      email: 'a@b.c',
      password: REDACTED,
      nested: { refresh_token: REDACTED, agent_secret: REDACTED, list: [{ value: REDACTED, name: 'n' }] },
      headers: { authorization: REDACTED, 'x-api-key': REDACTED },
    });
    expect(input.password).toBe('hunter2');
  });

  it('leaves errors, dates and nulls intact', () => {
    const err = new Error('x');
    const date = new Date(0);
    expect(redactDeep({ err, date, password: null })).toEqual({ err, date, password: null });
  });
});
