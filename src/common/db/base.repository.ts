import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { EntityManager, QueryFailedError } from 'typeorm';
import { PageRequest } from '../api/pagination';
import { TABLE_NAMES, TableName, Tables } from './schema.generated';

/** Tables whose rows carry both `id` and `tenant_id`: the ones looked up and listed by tenant. */
type TenantTable = { [N in TableName]: Tables[N] extends { id: string; tenant_id: string | null } ? N : never }[TableName];

/** The tenant tables a row type `R` is a projection of (every column of `R` is a column of the table). */
export type TableOf<R> = { [N in TenantTable]: keyof R extends keyof Tables[N] ? N : never }[TenantTable];

/** Equality filters of a keyset list: `undefined` skips the filter, an array matches any of its values. */
export type KeysetFilter<R> = {
  [K in keyof R & string as NonNullable<R[K]> extends readonly unknown[] ? never : K]?: NonNullable<R[K]> | readonly NonNullable<R[K]>[];
};

/** An identifier spliced into SQL: a known table, a plain column name (never a value: those are parameters). */
function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not an SQL identifier: ${JSON.stringify(name)}`);
  return name;
}

function table(name: TableName): string {
  if (!TABLE_NAMES.includes(name)) throw new Error(`not a table of the schema: ${JSON.stringify(name)}`);
  return name;
}

/** The pg Pool behind TypeORM's PostgreSQL driver (`master`), cached per manager. */
const pools = new WeakMap<EntityManager, Pool | null>();
function poolOf(manager: EntityManager): Pool | undefined {
  let pool = pools.get(manager);
  if (pool === undefined) {
    const master: unknown = Reflect.get(manager.connection.driver, 'master');
    pool = master instanceof Pool ? master : null;
    pools.set(manager, pool);
  }
  return pool ?? undefined;
}

/**
 * A statement outside any transaction straight on the pool: what TypeORM's query runner does for it (take a
 * client, run, release, wrap a failure in `QueryFailedError`) without the runner object, its event broadcaster and
 * its logger per statement. Rows come back as they are; TypeORM's `[rows, count]` for UPDATE/DELETE never arises.
 */
async function poolRows<T>(pool: Pool, sql: string, params: unknown[]): Promise<T[]> {
  let result;
  try {
    result = await pool.query(sql, params);
  } catch (error) {
    // Like TypeORM: a failed connect is thrown as it is, a failed statement as QueryFailedError.
    if (error instanceof Error && 'severity' in error) throw new QueryFailedError(sql, params, error);
    throw error;
  }
  return result.rows as T[];
}

/**
 * Repositories query with parameterized SQL through the request's unit of work: inside a transaction they use it,
 * outside they use the pool directly (a read that needs no transaction costs one pool checkout, no query runner). Every method of a tenant-owned table takes the tenant id first.
 */
@Injectable()
export abstract class BaseRepository {
  constructor(protected readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  protected async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.txHost.isTransactionActive()) {
      const pool = poolOf(this.txHost.tx);
      if (pool) return poolRows<T>(pool, sql, params);
    }
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

  /**
   * The one row a statement always returns (`INSERT … RETURNING` without `ON CONFLICT DO NOTHING`, an update of a row
   * the transaction holds locked). No row is a broken invariant, not a not-found: it fails loudly.
   */
  protected async oneRequired<T>(sql: string, params: unknown[] = []): Promise<T> {
    const row = await this.one<T>(sql, params);
    if (row === undefined) throw new Error(`statement returned no row: ${sql.replace(/\s+/g, ' ').slice(0, 80)}`);
    return row;
  }

  /**
   * `SELECT … FROM table WHERE tenant_id = $1 AND id = $2`, optionally row-locked. The table must hold every column of
   * the row type (checked by the compiler), `columns` narrows the select list.
   */
  protected findOneInTenant<R>(
    tableName: TableOf<R>,
    tenantId: string,
    id: string,
    options: { lock?: 'FOR UPDATE' | 'FOR SHARE'; columns?: readonly (keyof R & string)[] } = {},
  ): Promise<R | undefined> {
    const select = options.columns ? options.columns.map(identifier).join(', ') : '*';
    const lock = options.lock ? ` ${options.lock === 'FOR SHARE' ? 'FOR SHARE' : 'FOR UPDATE'}` : '';
    return this.one<R>(`SELECT ${select} FROM ${table(tableName)} WHERE tenant_id = $1 AND id = $2${lock}`, [tenantId, id]);
  }

  /**
   * One keyset page of a tenant's rows in id order: equality filters (arrays: any of), the rows after `page.after`, and
   * one row more than the limit (`toPage` turns it into `has_more`).
   */
  protected listKeyset<R extends { id: string }>(tableName: TableOf<R>, tenantId: string, page: PageRequest, filter: KeysetFilter<R> = {}): Promise<R[]> {
    const params: unknown[] = [tenantId];
    const where = ['tenant_id = $1'];
    for (const [column, value] of Object.entries(filter) as [string, unknown][]) {
      if (value === undefined) continue;
      params.push(value);
      where.push(Array.isArray(value) ? `${identifier(column)} = ANY($${params.length})` : `${identifier(column)} = $${params.length}`);
    }
    if (page.after !== undefined) {
      params.push(page.after);
      where.push(`id > $${params.length}`);
    }
    params.push(page.limit + 1);
    return this.rows<R>(`SELECT * FROM ${table(tableName)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`, params);
  }
}
