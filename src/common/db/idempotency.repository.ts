import { Injectable } from '@nestjs/common';
import { BaseRepository } from './base.repository';
import { TableRow } from './row-types';

/** A stored outcome (`created_at` is the database's). */
export type IdempotencyRecord = Omit<TableRow<'idempotency_keys', { headers: Record<string, string> }>, 'created_at'>;

@Injectable()
export class IdempotencyRepository extends BaseRepository {
  /** Transaction-scoped lock on (scope, key): held until the handler's transaction ends, on every replica. */
  tryLock(scope: string, key: string): Promise<boolean> {
    return this.one<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked`, [scope, key]).then((r) => !!r?.locked);
  }

  find(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.one<IdempotencyRecord>(`SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > now()`, [scope, key]);
  }

  /** Stores an outcome; an expired record under the same key is replaced, a live one is kept. */
  async save(r: IdempotencyRecord): Promise<void> {
    await this.rows(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, headers, body, resource_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code,
         headers = EXCLUDED.headers, body = EXCLUDED.body, resource_id = EXCLUDED.resource_id, created_at = now(),
         expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= now()`,
      [r.scope, r.key, r.fingerprint, r.status_code, JSON.stringify(r.headers), r.body, r.resource_id, r.expires_at],
    );
  }

  async purgeExpired(): Promise<number> {
    const rows = await this.rows(`DELETE FROM idempotency_keys WHERE expires_at <= now() RETURNING 1`);
    return rows.length;
  }
}
