import { acceptedId } from './request-context';

describe('acceptedId', () => {
  it.each(['abcdefgh-1', 'a.b:c_d-e', 'x'.repeat(128)])('accepts %s', (id) => expect(acceptedId(id)).toBe(id));
  it.each([undefined, '', 'short', 'has space1', 'x'.repeat(129), 'ünïcode-id'])('rejects %p', (id) => expect(acceptedId(id)).toBeUndefined());
  it('takes the first of repeated headers', () => expect(acceptedId(['first-id-1', 'second-id'])).toBe('first-id-1'));
});
