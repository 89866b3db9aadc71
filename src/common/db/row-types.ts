import { Jsonb, TableName, Tables } from './schema.generated';

/**
 * What a refinement may say about a column: a json column may hold any shape (the schema does not know it), any other
 * column only a narrower type than the schema's (a literal union, a branded id). Unknown columns are refused.
 */
type Refinement<T, J> = { [K in keyof J]: K extends keyof T ? (T[K] extends Jsonb | null ? unknown : NonNullable<T[K]>) : never };

/**
 * A row of a generated table type with some columns described more precisely. Nullability always comes from the
 * schema (a nullable column stays `| null` whatever the refinement says), so a migration that changes a column changes
 * every row type built on it, and a refinement of a column the schema no longer has fails to compile.
 */
export type Refine<T, J extends Refinement<T, J>> = {
  [K in keyof T]: K extends keyof J ? Exclude<J[K], null> | (null extends T[K] ? null : never) : T[K];
};

/** A row of `table` as `SELECT *` returns it, json columns described by `J`. */
export type TableRow<N extends TableName, J extends Refinement<Tables[N], J> = Record<never, never>> = Refine<Tables[N], J>;
