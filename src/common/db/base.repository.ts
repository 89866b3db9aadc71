import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';

/**
 * Repositories query with parameterized SQL through the request's unit of work: inside a transaction they use it,
 * outside they use the pool. Every method of a tenant-owned table takes the tenant id first.
 */
@Injectable()
export abstract class BaseRepository {
  constructor(protected readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  protected async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result: unknown = await this.txHost.tx.query(sql, params);
    // TypeORM returns [rows, rowCount] for UPDATE/DELETE (also inside WITH …) on PostgreSQL; rows are never arrays
    // themselves, so that shape is unambiguous. Normalise to rows.
    if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
      return result[0] as T[];
    }
    return result as T[];
  }

  protected async one<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(sql, params))[0];
  }
}
