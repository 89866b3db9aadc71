import { FieldIssue } from '../errors/app-error';

/**
 * Input that must never reach a validator, an ORM or PostgreSQL (SPEC §1 "strings"): NUL characters, which
 * PostgreSQL cannot store in text (`invalid byte sequence … 0x00`); JSON nested so deep that the recursive
 * transform/validate stack overflows; and keys that name JavaScript's prototype machinery. Everything here is
 * iterative, so no input can exhaust the stack of the code that checks it.
 */

/** Nesting allowed anywhere in a JSON body; the body itself is level 1. */
export const MAX_JSON_DEPTH = 32;
/** Nesting allowed inside the documented free-form objects (counted from the body, like everywhere else). */
export const MAX_FREE_FORM_JSON_DEPTH = 64;
/** Keys whose value is documented as free-form JSON (a job's `payload` and `result`, a request's `target`). */
export const FREE_FORM_KEYS: ReadonlySet<string> = new Set(['payload', 'target', 'result']);
/** Keys refused anywhere in a body: they mean nothing to this API and only ever serve prototype pollution. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const MAX_ISSUES = 20;
const NUL = '\u0000';
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when UTF-8 JSON text nests objects/arrays deeper than `limit`: one linear pass over the bytes that skips
 * string contents and stops at the first level too many, run before `JSON.parse` so that a megabyte of `[` costs
 * microseconds instead of a parse. (Multi-byte UTF-8 sequences never contain ASCII bytes, so bytes are enough.)
 */
export function jsonNestingExceeds(text: Uint8Array, limit: number): boolean {
  if (text.length <= 2 * limit) return false; // every level needs an opening and a closing bracket
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (b === BACKSLASH) escaped = true;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** `stages[0].name`, `labels["a b"]`; a key holding a NUL is shown escaped, never raw. */
function childField(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

interface Node {
  value: unknown;
  field: string;
  depth: number;
  freeForm: boolean;
}

/**
 * What is wrong with a parsed JSON body: NUL characters in any string or key, reserved keys, and containers nested
 * deeper than {@link MAX_JSON_DEPTH} ({@link MAX_FREE_FORM_JSON_DEPTH} under a free-form key). Breadth-first with an
 * explicit queue (no recursion); at most 20 issues, each `{field, issue}` as in every validation error.
 */
export function inspectJsonBody(body: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const queue: Node[] = [{ value: body, field: '', depth: 1, freeForm: false }];
  for (let next = 0; next < queue.length && issues.length < MAX_ISSUES; next++) {
    const { value, field, depth, freeForm } = queue[next];
    queue[next] = undefined as unknown as Node; // let visited subtrees go
    if (typeof value === 'string') {
      if (value.includes(NUL)) issues.push({ field: field || 'body', issue: 'must not contain NUL characters' });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const limit = freeForm ? MAX_FREE_FORM_JSON_DEPTH : MAX_JSON_DEPTH;
    if (depth > limit) {
      issues.push({ field: field || 'body', issue: `is nested deeper than ${limit} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => queue.push({ value: item, field: childField(field, index), depth: depth + 1, freeForm }));
      continue;
    }
    for (const key of Object.keys(value)) {
      const keyField = childField(field, key);
      if (key.includes(NUL)) issues.push({ field: keyField, issue: 'must not contain NUL characters' });
      else if (RESERVED_KEYS.has(key)) issues.push({ field: keyField, issue: 'is a reserved name' });
      else queue.push({ value: (value as Record<string, unknown>)[key], field: keyField, depth: depth + 1, freeForm: freeForm || FREE_FORM_KEYS.has(key) });
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

/** NUL characters in query parameter names or values (`?status=a%00b` → `status`). */
export function inspectQuery(query: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!query || typeof query !== 'object') return issues;
  // Express's "simple" parser gives strings and arrays of strings; a nested parser would give objects: walk all.
  const stack: { value: unknown; field: string }[] = Object.entries(query).map(([key, value]) => ({ value, field: key }));
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const { value, field } = stack.pop()!;
    if (field.includes(NUL)) {
      issues.push({ field: 'query', issue: 'parameter names must not contain NUL characters' });
    } else if (typeof value === 'string') {
      if (value.includes(NUL)) issues.push({ field, issue: 'must not contain NUL characters' });
    } else if (Array.isArray(value)) {
      value.forEach((item) => stack.push({ value: item, field }));
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) stack.push({ value: item, field: `${field}[${key}]` });
    }
  }
  return issues;
}

/**
 * Percent-decodes each segment of a request path and reports segments that are not valid UTF-8 percent-encoding or
 * decode to a NUL. A segment is named by the route parameter it fills (`id`, `job_id`) when `templates` has a
 * route of the same shape, else `path`. Paths without `%` cannot hold either and cost one `indexOf`.
 */
export function inspectPath(path: string, templates: readonly string[]): FieldIssue[] {
  if (!path.includes('%')) return [];
  const segments = path.split('/');
  const bad: { index: number; issue: string }[] = [];
  segments.forEach((segment, index) => {
    if (!segment.includes('%')) return;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      bad.push({ index, issue: 'is not valid percent-encoded UTF-8' });
      return;
    }
    if (decoded.includes(NUL)) bad.push({ index, issue: 'must not contain NUL characters' });
  });
  if (bad.length === 0) return [];
  const names = parameterNames(segments, templates);
  return bad.map(({ index, issue }) => ({ field: names?.[index] ?? 'path', issue }));
}

/** For the first template with the path's shape (same segment count, literal segments equal): index → parameter name. */
function parameterNames(segments: string[], templates: readonly string[]): Record<number, string> | undefined {
  for (const template of templates) {
    const parts = template.split('/');
    if (parts.length !== segments.length) continue;
    const names: Record<number, string> = {};
    let fits = true;
    for (let i = 0; i < parts.length && fits; i++) {
      if (parts[i].startsWith(':')) names[i] = parts[i].slice(1);
      else fits = parts[i] === segments[i];
    }
    if (fits) return names;
  }
  return undefined;
}
