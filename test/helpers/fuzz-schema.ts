import fc from 'fast-check';

/** The subset of OpenAPI 3.0 schema keywords the app's request bodies use (checked by `unsupportedKeywords`). */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  enum?: unknown[];
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  example?: unknown;
  writeOnly?: boolean;
}

const KNOWN = new Set<string>([
  '$ref', 'type', 'format', 'properties', 'required', 'additionalProperties', 'items', 'allOf', 'enum', 'nullable', 'minLength',
  'maxLength', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems', 'description', 'example', 'writeOnly',
]);

/** Keywords of a schema (and what it references) this generator does not understand: a new one must be taught here. */
export function unsupportedKeywords(schema: Schema, schemas: Record<string, Schema>, seen = new Set<string>()): string[] {
  const found = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()!;
    if (!seen.has(name)) {
      seen.add(name);
      found.push(...unsupportedKeywords(schemas[name], schemas, seen));
    }
  }
  const children = [...Object.values(schema.properties ?? {}), ...(schema.allOf ?? []), ...(schema.items ? [schema.items] : [])];
  if (typeof schema.additionalProperties === 'object') children.push(schema.additionalProperties);
  for (const child of children) found.push(...unsupportedKeywords(child, schemas, seen));
  return [...new Set(found)];
}

/** Characters and strings that break naive text handling: NUL, lone surrogates, bidi controls, zero-width, emoji, combining marks. */
export const EDGE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uDC00y',
  '\u202Eevil\u202C',
  '\u200F\u061C',
  'שלום עולם',
  'مرحبا',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\u2028\u2029',
  '\u0085',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '𝕏𝔸',
  'e\u0301\u0302\u0303\u0304\u0305',
  'Z̷̢̛̗̤̈́',
  'ﷺ',
  'ǅİß',
  '\uFFFE\uFFFF',
  '\u0007\u001b[31m',
  '\r\n\t',
  '\\',
  '"\'`',
  '%00',
  '%',
  '../../etc/passwd',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  ' ',
  '',
];

const edgeString: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...EDGE_STRINGS), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 })), {
    minLength: 1,
    maxLength: 6,
  })
  .map((parts) => parts.join(''));

/** Long strings: a few KB often; ~200 KB rarely (the body limit is 1 MiB). */
const longString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 257, max: 5_000 }), fc.constantFrom('a', 'é', '😀', '\u0000', 'ab\u202E')).map(([n, c]) => c.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 150_000, max: 200_000 }).map((n) => 'x'.repeat(n)) },
);

/** Nested arrays or objects 20–80 levels deep (the API refuses more than 32, or 64 under a free-form field). */
export const deepValue: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 20, max: 80 }), fc.boolean()).map(([levels, arrays]) => {
  let value: unknown = arrays ? [] : {};
  for (let i = 0; i < levels; i++) value = arrays ? [value] : { a: value };
  return value;
});

/** A value of the wrong shape for whatever it replaces. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, '', '0', 'null', 'true', [], {}, [null], { '': '' }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 4, arbitrary: edgeString },
  { weight: 1, arbitrary: longString },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
);

/** Keys that should never be accepted as extra fields (mass assignment) or that trip naive object handling. */
const EXTRA_KEYS = ['id', 'tenant_id', 'is_platform_admin', 'status', 'created_at', 'owner', 'role', 'permissions', 'constructor', 'toString', '', ' ', 'a\u0000b', '\uD800', 'x'.repeat(300)];

export interface GenOptions {
  schemas: Record<string, Schema>;
  /** Realistic values for a named property (real ids, permission names…), so that valid bodies get past look-ups. */
  hint: (name: string) => fc.Arbitrary<unknown> | undefined;
  /** Weight of a hostile value at each node against 20 valid ones; 0 makes only schema-valid values. */
  hostility: number;
  /** Per-property overrides of the valid values (e.g. a long-poll wait kept at 0 s: the wait is time, not input). */
  override?: (name: string) => fc.Arbitrary<unknown> | undefined;
}

/** `$ref` and `allOf` folded into one schema (siblings such as `nullable` kept). */
export function resolveSchema(schema: Schema, schemas: Record<string, Schema>): Schema {
  let current = schema;
  for (let hops = 0; hops < 20; hops++) {
    if (current.$ref) {
      const { $ref, ...rest } = current;
      current = { ...schemas[$ref.split('/').pop()!], ...rest };
    } else if (current.allOf) {
      const { allOf, ...rest } = current;
      current = Object.assign({}, ...allOf.map((s) => resolveSchema(s, schemas)), rest) as Schema;
    } else return current;
  }
  throw new Error(`schema references nest deeper than 20: ${JSON.stringify(schema).slice(0, 200)}`);
}

const SAFE_CHAR = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 -_.'.split(''));
const safeText = (min: number, max: number) => fc.string({ unit: SAFE_CHAR, minLength: Math.max(min, 1), maxLength: Math.max(Math.min(max, 24), min, 1) });

function validString(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 100;
  const fits = (v: string) => v.length >= min && v.length <= max;
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
  if (s.format === 'email') return fc.oneof(fc.emailAddress(), safeText(1, 12).map((t) => `${t.replace(/[^a-z0-9]/g, '') || 'u'}@fuzz.example`)).filter(fits);
  if (s.format === 'uri') {
    return fc.oneof(
      fc.constantFrom('https://93.184.216.34/hook', 'https://[2606:2800:220:1:248:1893:25c8:1946]/h', 'http://127.0.0.1/x', 'https://10.0.0.1/', 'https://localhost/a', 'ftp://93.184.216.34/f', 'javascript:alert(1)'),
      fc.webPath().map((p) => `https://93.184.216.34${p}`),
    ).filter(fits);
  }
  if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  const boundary = [min, Math.min(max, 2000)].map((n) => fc.constant('b'.repeat(Math.max(n, min))));
  return fc.oneof(
    { weight: 6, arbitrary: safeText(min, max).filter(fits) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: Math.max(min, 1), maxLength: Math.min(max, 40) }).filter(fits) },
    { weight: 1, arbitrary: fc.oneof(...boundary) },
  );
}

/** Values just outside the schema's own bounds: one character too long or short, one past the range, a wrong enum case. */
function boundaryViolation(s: Schema): fc.Arbitrary<unknown> | undefined {
  const options: unknown[] = [];
  if (s.enum) options.push(...s.enum.map((e) => String(e).toUpperCase()), `${String(s.enum[0])} `, 'unknown');
  if (s.type === 'string') {
    if (s.maxLength !== undefined && s.maxLength < 300_000) options.push('m'.repeat(s.maxLength + 1));
    if (s.minLength) options.push('m'.repeat(s.minLength - 1));
    if (s.pattern) options.push('UPPER CASE', '-leading', 'a/b');
    if (s.format) options.push('not a ' + s.format);
  }
  if (s.type === 'integer' || s.type === 'number') {
    if (s.minimum !== undefined) options.push(s.minimum - 1);
    if (s.maximum !== undefined) options.push(s.maximum + 1);
    options.push(0.5, '7', -0);
  }
  if (s.type === 'array') {
    if (s.minItems) options.push([]);
    if (s.maxItems !== undefined && s.maxItems <= 5000) options.push(Array.from({ length: s.maxItems + 1 }, () => 'x'));
  }
  return options.length ? fc.constantFrom(...options) : undefined;
}

/** The valid values of a schema; `name` is the property (or, for array items, the singular of the array's name). */
function validValue(schema: Schema, name: string, o: GenOptions, depth: number): fc.Arbitrary<unknown> {
  const s = resolveSchema(schema, o.schemas);
  const overridden = o.override?.(name);
  let arb: fc.Arbitrary<unknown>;
  if (overridden) arb = overridden;
  else if (s.enum) arb = fc.constantFrom(...s.enum);
  else {
    const generic = genericValid(s, name, o, depth);
    const hinted = s.type === 'string' || s.type === undefined || s.type === 'array' ? o.hint(name) : undefined;
    arb = hinted ? fc.oneof({ weight: 4, arbitrary: hinted }, { weight: 1, arbitrary: generic }) : generic;
  }
  return s.nullable ? fc.option(arb, { nil: null, freq: 6 }) : arb;
}

function genericValid(s: Schema, name: string, o: GenOptions, depth: number): fc.Arbitrary<unknown> {
  switch (s.type) {
    case 'string':
      return validString(s);
    case 'integer':
      return fc.integer({ min: s.minimum ?? -(2 ** 31), max: s.maximum ?? 2 ** 31 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = s.items ? anyValue(s.items, name.replace(/ies$/, 'y').replace(/s$/, ''), o, depth + 1) : fc.jsonValue({ maxDepth: 2 });
      const minLength = s.minItems ?? 0;
      return fc.array(item, { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 4, 4)) });
    }
    case 'object':
    case undefined:
      return objectValue(s, o, depth);
    default:
      throw new Error(`schema type ${s.type} is not supported by the fuzzer`);
  }
}

function objectValue(s: Schema, o: GenOptions, depth: number): fc.Arbitrary<unknown> {
  const properties = s.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0) {
    // Free-form (`additionalProperties: true`) or a typed map.
    const value = typeof s.additionalProperties === 'object' ? anyValue(s.additionalProperties, 'value', o, depth + 1) : fc.jsonValue({ maxDepth: 3 });
    return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), value, { maxKeys: 4 });
  }
  const required = s.required ?? [];
  const record = fc.record(Object.fromEntries(names.map((n) => [n, anyValue(properties[n], n, o, depth + 1)])), { requiredKeys: required });
  if (o.hostility === 0) return record;
  // Hostile: sometimes a required property is missing, sometimes unexpected ones are added.
  return fc
    .tuple(
      record,
      fc.option(fc.nat(), { freq: 4 }),
      fc.option(fc.dictionary(fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ maxLength: 10 })), hostileValue, { minKeys: 1, maxKeys: 3 }), { freq: 4 }),
    )
    .map(([value, drop, extra]) => {
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      if (drop !== null && required.length) delete out[required[drop % required.length]];
      // defineProperty: an own `constructor`/`toString` key, serialised like any other.
      for (const [k, v] of Object.entries(extra ?? {})) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      return out;
    });
}

/** A value for `schema`: valid, or (with `hostility` > 0) sometimes a boundary violation or a hostile value. */
export function anyValue(schema: Schema, name: string, o: GenOptions, depth = 0): fc.Arbitrary<unknown> {
  const valid = validValue(schema, name, o, depth);
  if (o.hostility === 0 || depth > 6) return valid;
  const boundary = boundaryViolation(resolveSchema(schema, o.schemas));
  return fc.oneof(
    { weight: 20, arbitrary: valid },
    { weight: o.hostility, arbitrary: hostileValue },
    ...(boundary ? [{ weight: o.hostility, arbitrary: boundary }] : []),
  );
}
