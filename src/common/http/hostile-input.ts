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
/** Half of a UTF-16 surrogate pair on its own: not Unicode, not storable as UTF-8, and it crashes validators (isEmail). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with one body string or key, if anything. */
function textIssue(text: string): string | undefined {
  if (text.includes(NUL)) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must not contain unpaired surrogates (\\uD800–\\uDFFF alone)';
  return undefined;
}

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

/** A container still to visit; its field name is built only if an issue needs it. */
interface Node {
  value: object;
  parent: Node | undefined;
  key: string | number;
  depth: number;
  freeForm: boolean;
}

function fieldOf(node: Node | undefined, key?: string | number): string {
  const keys: (string | number)[] = key === undefined ? [] : [key];
  for (let n = node; n?.parent; n = n.parent) keys.push(n.key);
  let field = '';
  for (let i = keys.length - 1; i >= 0; i--) field = childField(field, keys[i]);
  return field || 'body';
}

/**
 * What is wrong with a parsed JSON body: NUL characters or unpaired surrogates in any string or key, reserved keys, and containers nested
 * deeper than {@link MAX_JSON_DEPTH} ({@link MAX_FREE_FORM_JSON_DEPTH} under a free-form key). Breadth-first with an
 * explicit queue of containers (no recursion; scalars are checked in place, so a megabyte of numbers is one pass);
 * at most 20 issues, each `{field, issue}` as in every validation error.
 */
export function inspectJsonBody(body: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (typeof body === 'string') {
    const issue = textIssue(body);
    return issue ? [{ field: 'body', issue }] : [];
  }
  if (body === null || typeof body !== 'object') return issues;
  const queue: Node[] = [{ value: body, parent: undefined, key: '', depth: 1, freeForm: false }];
  const visit = (node: Node, key: string | number, item: unknown, freeForm: boolean) => {
    if (typeof item === 'string') {
      const issue = textIssue(item);
      if (issue) issues.push({ field: fieldOf(node, key), issue });
    } else if (item !== null && typeof item === 'object') {
      queue.push({ value: item, parent: node, key, depth: node.depth + 1, freeForm });
    }
  };
  for (let next = 0; next < queue.length && issues.length < MAX_ISSUES; next++) {
    const node = queue[next];
    const limit = node.freeForm ? MAX_FREE_FORM_JSON_DEPTH : MAX_JSON_DEPTH;
    if (node.depth > limit) {
      issues.push({ field: fieldOf(node), issue: `is nested deeper than ${limit} levels` });
      continue;
    }
    const value = node.value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(node, i, value[i], node.freeForm);
      continue;
    }
    for (const key of Object.keys(value)) {
      const keyIssue = textIssue(key);
      if (keyIssue) issues.push({ field: fieldOf(node, key), issue: keyIssue });
      else if (RESERVED_KEYS.has(key)) issues.push({ field: fieldOf(node, key), issue: 'is a reserved name' });
      else visit(node, key, (value as Record<string, unknown>)[key], node.freeForm || FREE_FORM_KEYS.has(key));
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
  for (let next = stack.pop(); next !== undefined && issues.length < MAX_ISSUES; next = stack.pop()) {
    const { value, field } = next;
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
