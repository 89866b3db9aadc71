import { InvalidCursorError } from '../errors/app-error';

export interface PageRequest {
  limit: number;
  /** The id after which the page starts (decoded cursor). */
  after?: string;
}

export interface Page<T> {
  data: T[];
  pagination: { limit: number; next_cursor: string | null; has_more: boolean };
}

export function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ k: id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'string' && /^[a-z]{3}_[0-9A-Z]{26}$/.test(parsed.k)) return parsed.k;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export function toPageRequest(query: { limit?: number; cursor?: string }): PageRequest {
  return { limit: query.limit ?? 50, after: decodeCursor(query.cursor) };
}

/** Rows were fetched with `LIMIT limit + 1` in id order (keyset); the extra row only says there is more. */
export function toPage<R extends { id: string }, T>(rows: R[], page: PageRequest, map: (row: R) => T): Page<T> {
  const hasMore = rows.length > page.limit;
  const kept = hasMore ? rows.slice(0, page.limit) : rows;
  return {
    data: kept.map(map),
    pagination: { limit: page.limit, next_cursor: hasMore ? encodeCursor(kept[kept.length - 1].id) : null, has_more: hasMore },
  };
}
