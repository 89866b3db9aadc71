/**
 * Bounded CEL evaluation (SPEC §4: "a cost budget or a deadline of 50 ms per condition"). `@bufbuild/cel` has no cost
 * limit of its own, so the program is metered from outside, in the evaluating thread (no worker round trip per request):
 *
 * - every library function runs through a wrapper that charges its inputs and its result by size (strings by length,
 *   `==`/`in`/`join`/`format` by the whole nested value, walked only as far as the budget left) before and after the
 *   call; list concatenation is a metered flat copy;
 * - every comprehension (`all`, `exists`, `map`, …) charges each iteration the size of its loop body, through a call
 *   injected into its loop condition (`@tick`, a name the parser cannot produce);
 * - a charge beyond the budget, or after the wall-clock deadline, throws: the function returns a CEL error and each
 *   loop stops at its next iteration, so the program unwinds within a few steps. Work between two charges is bounded by
 *   the size of the expression (at most MAX_CONDITION_NODES nodes).
 *
 * A metered run reports exhaustion even when CEL's error absorption (`error || true`) would have produced a value.
 */
import { celEnv, celFunc, celList, celMethod, CelScalar, isCelError, isCelList, isCelMap } from '@bufbuild/cel';
import type { CelEnv, CelFunc, CelInput, CelList, CelResult, CelType, CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { ComprehensionValue, ExprNode } from './cel-checker';

/** Cost units per evaluation: one unit is roughly one AST node evaluated (≈ 0.1–0.5 µs here); see docs/decisions.md. */
export const MAX_EVALUATION_COST = 50_000;
/** Wall-clock backstop per condition, for when the cost model underestimates (or the machine is very busy). */
export const EVALUATION_DEADLINE_MS = 50;
/** Characters (or bytes) per cost unit for string work. */
const CHARS_PER_UNIT = 16;
/** List elements copied per cost unit. */
const ELEMENTS_PER_UNIT = 16;
/** A library function call (two dispatch layers, argument checks) costs about this many AST nodes. */
const CALL_UNITS = 4;
export const TICK_FUNCTION = '@tick';

interface Meter {
  budget: number;
  remaining: number;
  deadlineMs: number;
  deadline: number;
  exhausted?: string;
  /** The wall-clock deadline (not the unit budget) stopped it: possibly a stall that was not the condition's. */
  byDeadline?: boolean;
}
let meter: Meter | undefined;

class BudgetExhausted extends Error {}

function charge(units: number): void {
  const m = meter;
  if (!m) return;
  if (!m.exhausted) {
    m.remaining -= units;
    if (m.remaining < 0) m.exhausted = `the condition exceeded its evaluation budget (${m.budget} steps)`;
    else if (performance.now() > m.deadline) {
      m.exhausted = `the condition ran longer than its ${m.deadlineMs} ms deadline`;
      m.byDeadline = true;
    }
  }
  if (m.exhausted) throw new BudgetExhausted(m.exhausted);
}

/** Size of a value at its top level (the cost of touching it once). */
function shallowCost(v: unknown): number {
  if (typeof v === 'string') return 1 + Math.floor(v.length / CHARS_PER_UNIT);
  if (v instanceof Uint8Array) return 1 + Math.floor(v.byteLength / CHARS_PER_UNIT);
  return 1;
}

/** Size of a value with everything nested in it, counted up to `cap` (then the walk stops: the budget is gone anyway). */
function deepCost(v: unknown, cap: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  while (stack.length) {
    const x = stack.pop();
    total += shallowCost(x);
    if (total > cap) return total;
    if (isCelList(x)) {
      for (const item of x) {
        stack.push(item);
        if (++total > cap) return total;
      }
    } else if (isCelMap(x)) {
      for (const [key, item] of x) {
        stack.push(key, item);
        if (++total > cap) return total;
      }
    }
  }
  return total;
}

/** Functions whose work grows with the whole nested value of their operands, not only its top level. */
const DEEP = new Set(['_==_', '_!=_', '@in', 'join', 'format', 'string']);

function inputCost(name: string, target: unknown, args: unknown[]): number {
  const cap = meter ? Math.max(0, meter.remaining) + 1 : Number.MAX_SAFE_INTEGER;
  const cost = (v: unknown) => (DEEP.has(name) ? deepCost(v, cap) : shallowCost(v));
  let total = CALL_UNITS + (target === undefined ? 0 : cost(target));
  for (const a of args) total += cost(a);
  if (name === 'replace' && typeof target === 'string' && typeof args[0] === 'string' && typeof args[1] === 'string') {
    // The result can be |s| / |old| times larger than `new`: charge it before building it.
    total += Math.floor(((target.length / Math.max(1, args[0].length) + 1) * args[1].length) / CHARS_PER_UNIT);
  }
  if (name === 'join' && isCelList(target) && typeof args[0] === 'string') total += Math.floor((target.size * args[0].length) / CHARS_PER_UNIT);
  if (name === 'matches' && typeof target === 'string' && typeof args[0] === 'string') {
    // RE2 runs in O(|text| × |program|) (the compile is charged by cachingRe2 on a miss).
    total += Math.floor((target.length * (1 + args[0].length)) / 8);
  }
  return total;
}

/** Backing arrays of the lists built by `+`: concatenation copies them (natively, cheap) instead of nesting views. */
const arrays = new WeakMap<CelList, CelValue[]>();
const arrayOf = (list: CelList) => arrays.get(list) ?? [...list];

/**
 * `a + b` on lists, flat. The library's own concat list is a view over its operands, so the `map` macro (`accu + [x]`
 * per item) builds a chain as deep as the list is long, which every later iteration walks through: quadratic and
 * unmetered. A copy is linear in the result and metered.
 */
function concatLists(a: CelList, b: CelList): CelList {
  charge(Math.floor((a.size + b.size) / ELEMENTS_PER_UNIT));
  const array = arrayOf(a).concat(arrayOf(b));
  const list = celList(array as CelInput[]);
  arrays.set(list, array);
  return list;
}

function wrap(f: CelFunc): CelFunc {
  const impl = function (this: CelValue | undefined, ...args: CelValue[]): CelInput {
    if (f.name === '_+_' && isCelList(args[0]) && isCelList(args[1])) return concatLists(args[0], args[1]);
    charge(inputCost(f.name, this, args));
    const result: CelResult | undefined = f.call(0, this, args);
    if (result === undefined) throw new Error(`found no matching overload for '${f.name}'`);
    if (isCelError(result)) throw result;
    charge(isCelList(result) || isCelMap(result) ? 1 + Math.floor(result.size / ELEMENTS_PER_UNIT) : shallowCost(result));
    return result as CelInput;
  };
  const args = f.arguments as CelType[];
  return f.target ? celMethod(f.name, f.target, args, f.result, impl) : celFunc(f.name, args, f.result, impl as (...a: CelValue[]) => CelInput);
}

/**
 * The library's regex engine (RE2 semantics, linear time), resolved from @bufbuild/cel's own location because it is that
 * package's dependency, not ours. Compiling costs more than matching (~0.1–0.7 ms), and condition patterns are
 * literals, so compiled patterns are kept (bounded); a miss is charged by pattern length.
 */
interface Re2Program {
  test(input: string): boolean;
}
const { RE2JS } = require(require.resolve('@bufbuild/re2', { paths: [require.resolve('@bufbuild/cel')] })) as {
  RE2JS: { compile(pattern: string): Re2Program };
};
const MAX_CACHED_PATTERNS = 1000;
const patterns = new Map<string, Re2Program>();
const cachingRe2 = {
  compile(pattern: string): Re2Program {
    let program = patterns.get(pattern);
    if (!program) {
      charge((1 + pattern.length) * CHARS_PER_UNIT);
      program = RE2JS.compile(pattern);
      if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
      patterns.set(pattern, program);
    }
    return program;
  },
};

/** Why `pattern` is not a valid RE2 regular expression, or undefined when it is. */
export function regexError(pattern: string): string | undefined {
  try {
    return runMetered(() => cachingRe2.compile(pattern)).exhausted;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The functions conditions may call: the standard library and the strings extension. The checker types against these. */
export const conditionEnv: CelEnv = celEnv({ funcs: strings, re2: cachingRe2 });

/** The same functions, metered, plus the loop tick. Programs are planned against this one. */
export const meteredEnv: CelEnv = celEnv({
  funcs: [
    ...[...conditionEnv.funcs].map(wrap),
    celFunc(TICK_FUNCTION, [CelScalar.BOOL, CelScalar.INT], CelScalar.BOOL, (proceed, units) => {
      charge(Number(units));
      return proceed;
    }),
  ],
});

/** Number of AST nodes evaluated once per iteration of a loop body (nested loops count their own iterations). */
function bodyNodes(e: ExprNode | undefined): number {
  if (!e?.exprKind?.case) return 0;
  const v = e.exprKind.value as Record<string, unknown>;
  switch (e.exprKind.case) {
    case 'selectExpr':
      return 1 + bodyNodes(v.operand as ExprNode);
    case 'callExpr':
      return 1 + bodyNodes(v.target as ExprNode | undefined) + (v.args as ExprNode[]).reduce((n, a) => n + bodyNodes(a), 0);
    case 'listExpr':
      return 1 + (v.elements as ExprNode[]).reduce((n, a) => n + bodyNodes(a), 0);
    case 'structExpr':
      return 1 + (v.entries as { keyKind: { case: string; value: unknown }; value: ExprNode }[]).reduce(
        (n, entry) => n + (entry.keyKind.case === 'mapKey' ? bodyNodes(entry.keyKind.value as ExprNode) : 0) + bodyNodes(entry.value),
        0,
      );
    case 'comprehensionExpr': {
      const c = e.exprKind.value as ComprehensionValue;
      return 1 + bodyNodes(c.iterRange) + bodyNodes(c.accuInit) + bodyNodes(c.result);
    }
    default:
      return 1;
  }
}

/** Rewrites every comprehension's loop condition `c` into `@tick(c, cost of one iteration)`, in place. */
export function instrumentLoops(root: ExprNode): void {
  let nextId = 0n;
  const maxId = (e: ExprNode | undefined): void => {
    forEachChild(e, maxId);
    if (e && e.id >= nextId) nextId = e.id + 1n;
  };
  maxId(root);
  const node = (exprKind: ExprNode['exprKind']): ExprNode => {
    // A protobuf-es message: the evaluator reads `$typeName`, which the structural ExprNode does not declare.
    const created: ExprNode & { $typeName: 'cel.expr.Expr' } = { $typeName: 'cel.expr.Expr', id: nextId++, exprKind };
    return created;
  };
  const visit = (e: ExprNode | undefined): void => {
    forEachChild(e, visit);
    if (e?.exprKind.case !== 'comprehensionExpr') return;
    const c = e.exprKind.value as ComprehensionValue;
    const units = 1 + bodyNodes(c.loopCondition) + bodyNodes(c.loopStep);
    const weight = node({ case: 'constExpr', value: { $typeName: 'cel.expr.Constant', constantKind: { case: 'int64Value', value: BigInt(units) } } });
    c.loopCondition = node({ case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: TICK_FUNCTION, args: [c.loopCondition, weight] } });
  };
  visit(root);
}

function forEachChild(e: ExprNode | undefined, fn: (child: ExprNode | undefined) => void): void {
  if (!e?.exprKind?.case) return;
  const v = e.exprKind.value as Record<string, unknown>;
  switch (e.exprKind.case) {
    case 'selectExpr':
      return fn(v.operand as ExprNode);
    case 'callExpr':
      fn(v.target as ExprNode | undefined);
      return (v.args as ExprNode[]).forEach(fn);
    case 'listExpr':
      return (v.elements as ExprNode[]).forEach(fn);
    case 'structExpr':
      for (const entry of v.entries as { keyKind: { case: string; value: unknown }; value: ExprNode }[]) {
        if (entry.keyKind.case === 'mapKey') fn(entry.keyKind.value as ExprNode);
        fn(entry.value);
      }
      return;
    case 'comprehensionExpr': {
      const c = e.exprKind.value as ComprehensionValue;
      [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].forEach(fn);
      return;
    }
  }
}

export interface MeteredResult<R> {
  value?: R;
  /** Set when the budget or the deadline ran out (whatever `value` says). */
  exhausted?: string;
  /** Units charged. */
  cost: number;
}

/**
 * Runs `program` under a fresh budget. Synchronous, so one meter at a time is all there is. The unit budget is
 * deterministic; the wall-clock deadline is not (a GC pause or the OS preempting a busy machine's process counts too),
 * so a run stopped by the deadline alone is tried once more before it counts as exhausted: an ordinary condition never
 * fails closed because of a stall, and a hostile one costs at most two deadlines.
 */
export function runMetered<R>(program: () => R, budget = MAX_EVALUATION_COST, deadlineMs = EVALUATION_DEADLINE_MS): MeteredResult<R> {
  const first = runOnce(program, budget, deadlineMs);
  return first.byDeadline ? runOnce(program, budget, deadlineMs) : first;
}

function runOnce<R>(program: () => R, budget: number, deadlineMs: number): MeteredResult<R> & { byDeadline?: boolean } {
  const previous = meter;
  const m: Meter = { budget, remaining: budget, deadlineMs, deadline: performance.now() + deadlineMs };
  meter = m;
  try {
    const value = program();
    return { value, exhausted: m.exhausted, cost: budget - m.remaining, byDeadline: m.byDeadline };
  } catch (e) {
    if (m.exhausted) return { exhausted: m.exhausted, cost: budget - m.remaining, byDeadline: m.byDeadline };
    throw e;
  } finally {
    meter = previous;
  }
}
