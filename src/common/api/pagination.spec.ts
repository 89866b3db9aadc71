import { InvalidCursorError } from '../errors/app-error';
import { decodeCursor, encodeCursor, toPage } from './pagination';

describe('keyset pagination', () => {
  const id = 'wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B';

  it('round-trips a cursor', () => expect(decodeCursor(encodeCursor(id))).toBe(id));

  it.each(['garbage', Buffer.from('{"k":"not an id"}').toString('base64url'), Buffer.from('[]').toString('base64url')])('rejects %s', (c) =>
    expect(() => decodeCursor(c)).toThrow(InvalidCursorError),
  );

  it('uses the extra row only to say there is more', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const page = toPage(rows, { limit: 2 }, (r) => r.id);
    expect(page.data).toEqual(['a', 'b']);
    expect(page.pagination).toEqual({ limit: 2, has_more: true, next_cursor: encodeCursor('b') });
    expect(toPage(rows.slice(0, 2), { limit: 2 }, (r) => r.id).pagination).toEqual({ limit: 2, has_more: false, next_cursor: null });
  });
});
