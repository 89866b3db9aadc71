import { ApiProperty } from '@nestjs/swagger';

/**
 * What the swagger CLI plugin cannot infer from a TypeScript type: `number` is always `type: number` (our numbers are
 * integers), a timestamp is just `string`, and an `as const` union becomes an inline enum repeated at every use.
 * The plugin still supplies `required` from `?`, and the class-validator shim the bounds.
 */
interface PropertyExtras {
  nullable?: boolean;
  required?: boolean;
  description?: string;
  example?: unknown;
  minimum?: number;
  maximum?: number;
}

/** An integer property (counts, limits, seconds, versions, priorities). */
export const ApiInteger = (extras: PropertyExtras = {}): PropertyDecorator => ApiProperty({ ...extras, type: 'integer' });

/** An RFC 3339 timestamp, as every `*_at` field is serialised. */
export const ApiDateTime = (extras: PropertyExtras = {}): PropertyDecorator => ApiProperty({ ...extras, type: String, format: 'date-time' });

/** A named enum: one schema in `components.schemas`, `$ref`'d wherever the values are used (generators emit one type). */
export const ApiEnum = (values: readonly string[], enumName: string, extras: PropertyExtras = {}): PropertyDecorator =>
  ApiProperty({ ...extras, enum: [...values], enumName });

/** Regex source without the JS delimiters, for a schema `pattern` that says what a `@Matches` validator checks. */
export const patternOf = (regex: RegExp): string => regex.source;

/**
 * The values of a string union declared elsewhere (e.g. `ScopeType`) as a runtime list for validators and `ApiEnum`,
 * checked both ways by tsc: a value missing from the list, or one foreign to the union, fails to compile.
 */
export const valuesOf =
  <U extends string>() =>
  <const T extends readonly U[]>(values: T & ([U] extends [T[number]] ? unknown : never)): T =>
    values;
