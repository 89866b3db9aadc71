/**
 * A static type checker for policy conditions (SPEC §4), pure. `@bufbuild/cel` parses and evaluates CEL but its own
 * checker only types constants and identifiers, so this one walks the parsed AST: it knows the declared variables, the
 * comprehension macros and the operators, and resolves every other call against the overload signatures of the
 * library's own function table (so what is accepted here is what the evaluator implements).
 */
import type { CelEnv, CelType } from '@bufbuild/cel';

/** A CEL type as the checker sees it. `unknown` is the element type of an empty literal, fixed by unification. */
export type CelT =
  | { kind: 'int' | 'uint' | 'double' | 'bool' | 'string' | 'bytes' | 'null_type' | 'timestamp' | 'duration' | 'type' | 'dyn' | 'unknown' }
  | { kind: 'list'; elem: CelT }
  | { kind: 'map'; key: CelT; value: CelT }
  | { kind: 'object'; name: string; fields: Record<string, CelT> };

type ScalarKind = Exclude<CelT['kind'], 'list' | 'map' | 'object'>;
const scalar = (kind: ScalarKind): CelT => ({ kind });
export const T = {
  int: scalar('int'),
  uint: scalar('uint'),
  double: scalar('double'),
  bool: scalar('bool'),
  string: scalar('string'),
  bytes: scalar('bytes'),
  null: scalar('null_type'),
  timestamp: scalar('timestamp'),
  duration: scalar('duration'),
  type: scalar('type'),
  dyn: scalar('dyn'),
  unknown: scalar('unknown'),
  list: (elem: CelT): CelT => ({ kind: 'list', elem }),
  map: (key: CelT, value: CelT): CelT => ({ kind: 'map', key, value }),
  object: (name: string, fields: Record<string, CelT>): CelT => ({ kind: 'object', name, fields }),
};

export function typeName(t: CelT): string {
  switch (t.kind) {
    case 'list':
      return `list(${typeName(t.elem)})`;
    case 'map':
      return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case 'object':
      return t.name;
    case 'unknown':
      return 'dyn';
    default:
      return t.kind;
  }
}

/** The library's runtime type descriptor → ours (its generic overloads use `list(dyn)`, `map(dyn, dyn)` and `dyn`). */
function fromCel(t: CelType): CelT {
  switch (t.kind) {
    case 'list':
      return T.list(fromCel(t.element));
    case 'map':
      return T.map(fromCel(t.key), fromCel(t.value));
    case 'object':
      if (t.name === 'google.protobuf.Timestamp') return T.timestamp;
      if (t.name === 'google.protobuf.Duration') return T.duration;
      return T.object(t.name, {});
    default:
      return scalar(t.name as ScalarKind);
  }
}

const isLoose = (t: CelT) => t.kind === 'dyn' || t.kind === 'unknown';
const isNumeric = (t: CelT) => t.kind === 'int' || t.kind === 'uint' || t.kind === 'double';

/** Whether a value of type `arg` may be passed where `param` is expected (dyn goes both ways). */
export function assignable(param: CelT, arg: CelT): boolean {
  if (isLoose(param) || isLoose(arg)) return true;
  if (param.kind !== arg.kind) return false;
  if (param.kind === 'list' && arg.kind === 'list') return assignable(param.elem, arg.elem);
  if (param.kind === 'map' && arg.kind === 'map') return assignable(param.key, arg.key) && assignable(param.value, arg.value);
  if (param.kind === 'object' && arg.kind === 'object') return param.name === arg.name;
  return true;
}

/** The common type of two branches or elements; undefined when they have none (dyn absorbs anything). */
export function unify(a: CelT, b: CelT): CelT | undefined {
  if (a.kind === 'unknown') return b;
  if (b.kind === 'unknown') return a;
  if (a.kind === 'dyn' || b.kind === 'dyn') return T.dyn;
  if (a.kind === 'list' && b.kind === 'list') {
    const elem = unify(a.elem, b.elem);
    return elem && T.list(elem);
  }
  if (a.kind === 'map' && b.kind === 'map') {
    const key = unify(a.key, b.key);
    const value = unify(a.value, b.value);
    return key && value && T.map(key, value);
  }
  if (a.kind === 'object' && b.kind === 'object') return a.name === b.name ? a : undefined;
  return a.kind === b.kind ? a : undefined;
}

/** `==`, `!=` and `in`: same type, dyn on either side, or numbers (CEL compares int, uint and double numerically). */
const comparable = (a: CelT, b: CelT) => assignable(a, b) || (isNumeric(a) && isNumeric(b));

/** The variables a condition sees (SPEC §4). Absent values are their type's zero value ("" / 0 / empty), never null. */
export const CONDITION_VARIABLES: Record<string, CelT> = {
  request: T.object('request', {
    type: T.string,
    workspace_id: T.string,
    environment_id: T.string,
    environment: T.string,
    environment_protected: T.bool,
    access_duration_seconds: T.int,
    target: T.map(T.string, T.dyn),
  }),
  requester: T.object('requester', { id: T.string, email: T.string, roles: T.list(T.string), groups: T.list(T.string) }),
  secret: T.object('secret', { provider: T.string, cluster_name: T.string, ref: T.string, labels: T.map(T.string, T.string) }),
  target: T.map(T.string, T.dyn),
  now: T.timestamp,
};

/** Type names usable as values (`type(x) == string`). */
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);

/** The slice of the protobuf AST (`cel.expr.Expr`) the checker reads. */
export interface ExprNode {
  id: bigint;
  exprKind: { case: string | undefined; value?: unknown };
}
interface ConstValue {
  constantKind: { case: string | undefined; value?: unknown };
}
interface SelectValue {
  operand?: ExprNode;
  field: string;
  testOnly: boolean;
}
export interface CallValue {
  function: string;
  target?: ExprNode;
  args: ExprNode[];
}
export interface ComprehensionValue {
  iterVar: string;
  iterVar2?: string;
  accuVar: string;
  iterRange?: ExprNode;
  accuInit?: ExprNode;
  loopCondition?: ExprNode;
  loopStep?: ExprNode;
  result?: ExprNode;
}
interface StructValue {
  messageName: string;
  entries: { keyKind: { case: string | undefined; value?: unknown }; value?: ExprNode }[];
}

export class CelCheckError extends Error {}

/** `<input>:line:column: ` for a node (1-based, as the parser reports syntax errors), or '' when its offset is unknown. */
export function locate(source: string, positions: Record<string, number>, e: ExprNode): string {
  const offset = positions[e.id.toString()];
  if (offset === undefined) return '';
  const before = source.slice(0, offset);
  return `<input>:${before.split('\n').length}:${offset - before.lastIndexOf('\n')}: `;
}

export interface CheckResult {
  type: CelT;
  /** Calls whose target and arguments are all literals (`timestamp("…")`, `1 / 0`): worth running once at save. */
  constantCalls: ExprNode[];
  /** Literal patterns of `matches` (`request.type.matches("(")`): worth compiling once at save. */
  regexLiterals: { node: ExprNode; pattern: string }[];
}

/**
 * Types `root` against `CONDITION_VARIABLES` and the functions of `env`; throws CelCheckError with
 * `<input>:line:column: message` on the first error.
 */
export function checkExpression(root: ExprNode, source: string, positions: Record<string, number>, env: CelEnv): CheckResult {
  const constantCalls: ExprNode[] = [];
  const regexLiterals: CheckResult['regexLiterals'] = [];

  const fail = (e: ExprNode | undefined, message: string): never => {
    throw new CelCheckError(`${e ? locate(source, positions, e) : ''}${message}`);
  };
  const noOverload = (e: ExprNode, name: string, target: CelT | undefined, args: CelT[]): never =>
    fail(e, `found no matching overload for '${name}' applied to '${target ? `${typeName(target)}.` : ''}(${args.map(typeName).join(', ')})'`);
  const wantBool = (e: ExprNode, t: CelT, what: string) => {
    if (t.kind !== 'bool' && !isLoose(t)) fail(e, `${what} must be bool, not ${typeName(t)}`);
  };

  const qualifiedName = (e: ExprNode): string | undefined => {
    if (e.exprKind.case === 'identExpr') return (e.exprKind.value as { name: string }).name;
    if (e.exprKind.case !== 'selectExpr') return undefined;
    const s = e.exprKind.value as SelectValue;
    const operand = s.operand && !s.testOnly ? qualifiedName(s.operand) : undefined;
    return operand && `${operand}.${s.field}`;
  };

  const overload = (e: ExprNode, name: string, target: CelT | undefined, args: CelT[]): CelT => {
    const group = env.funcs.find(name);
    if (!group) return fail(e, `undeclared reference to function '${name}'`);
    const results: CelT[] = [];
    for (const f of group) {
      if ((f.target === undefined) !== (target === undefined) || f.arguments.length !== args.length) continue;
      if (target && f.target && !assignable(fromCel(f.target), target)) continue;
      if (!args.every((a, i) => assignable(fromCel(f.arguments[i]), a))) continue;
      results.push(fromCel(f.result));
    }
    if (!results.length) return noOverload(e, name, target, args);
    return results.every((r) => typeName(r) === typeName(results[0])) ? results[0] : T.dyn;
  };

  const visitCall = (e: ExprNode, scope: Map<string, CelT>): CelT => {
    const call = e.exprKind.value as CallValue;
    const name = call.function;
    // `strings.quote(x)`: a namespaced function, not a method on a variable.
    if (call.target) {
      const qualified = qualifiedName(call.target);
      if (qualified && !scope.has(qualified.split('.')[0]) && env.funcs.find(`${qualified}.${name}`)) {
        return overload(e, `${qualified}.${name}`, undefined, call.args.map((a) => visit(a, scope)));
      }
    }
    const target = call.target ? visit(call.target, scope) : undefined;
    const args = call.args.map((a) => visit(a, scope));
    switch (name) {
      case '_&&_':
      case '_||_':
        args.forEach((a, i) => wantBool(call.args[i], a, `an operand of ${name === '_&&_' ? '&&' : '||'}`));
        return T.bool;
      case '@not_strictly_false':
        return T.bool;
      case '_?_:_': {
        wantBool(call.args[0], args[0], 'the condition of ?:');
        return unify(args[1], args[2]) ?? fail(e, `the branches of ?: have different types (${typeName(args[1])} and ${typeName(args[2])})`);
      }
      case '_==_':
      case '_!=_':
        return comparable(args[0], args[1]) ? T.bool : noOverload(e, name, undefined, args);
      case '@in': {
        const [item, container] = args;
        if (container.kind === 'list' && comparable(container.elem, item)) return T.bool;
        if (container.kind === 'map' && comparable(container.key, item)) return T.bool;
        return isLoose(container) ? T.bool : noOverload(e, 'in', undefined, args);
      }
      case '_[_]': {
        const [operand, index] = args;
        if (operand.kind === 'list' && (index.kind === 'int' || index.kind === 'uint' || isLoose(index))) return operand.elem;
        if (operand.kind === 'map' && comparable(operand.key, index)) return operand.value;
        return isLoose(operand) ? T.dyn : noOverload(e, '_[_]', undefined, args);
      }
      case '_[?_]':
      case '_?._':
        return fail(e, 'optional syntax (.? and [?]) is not supported');
      case '_+_':
        if (args.some((a) => a.kind === 'list') && args.every((a) => a.kind === 'list' || isLoose(a))) {
          const [a, b] = args.map((x) => (x.kind === 'list' ? x.elem : T.dyn));
          const elem = unify(a, b);
          return elem ? T.list(elem) : noOverload(e, name, undefined, args);
        }
        break;
      case 'join':
        if (target && target.kind === 'list' && !isLoose(target.elem) && target.elem.kind !== 'string') return noOverload(e, name, target, args);
        break;
      case 'dyn':
        if (!target && args.length === 1) return T.dyn;
        break;
      case 'has':
        return fail(e, 'has() takes a field selection, e.g. has(target.region)');
      case 'all':
      case 'exists':
      case 'exists_one':
      case 'map':
      case 'filter':
        if (target) return fail(e, `${name}() takes a variable name first, e.g. ${name}(x, …)`);
        break;
    }
    const result = overload(e, name, target, args);
    const pattern = name === 'matches' ? call.args[0] : undefined;
    if (pattern?.exprKind.case === 'constExpr' && (pattern.exprKind.value as ConstValue).constantKind.case === 'stringValue') {
      regexLiterals.push({ node: pattern, pattern: (pattern.exprKind.value as ConstValue).constantKind.value as string });
    }
    if ([call.target, ...call.args].every((a) => a === undefined || a.exprKind.case === 'constExpr')) constantCalls.push(e);
    return result;
  };

  const visit = (e: ExprNode | undefined, scope: Map<string, CelT>): CelT => {
    if (!e?.exprKind?.case) return fail(e, 'empty expression');
    const v = e.exprKind.value;
    switch (e.exprKind.case) {
      case 'constExpr': {
        const kind = (v as ConstValue).constantKind.case;
        const byKind: Record<string, CelT> = {
          boolValue: T.bool,
          int64Value: T.int,
          uint64Value: T.uint,
          doubleValue: T.double,
          stringValue: T.string,
          bytesValue: T.bytes,
          nullValue: T.null,
        };
        return (kind && byKind[kind]) || fail(e, `unsupported constant (${kind})`);
      }
      case 'identExpr': {
        const name = (v as { name: string }).name;
        const declared = scope.get(name) ?? (Object.hasOwn(CONDITION_VARIABLES, name) ? CONDITION_VARIABLES[name] : undefined);
        if (declared) return declared;
        if (TYPE_NAMES.has(name)) return T.type;
        return fail(e, `undeclared reference to '${name}' (variables: ${Object.keys(CONDITION_VARIABLES).join(', ')})`);
      }
      case 'selectExpr': {
        const s = v as SelectValue;
        const operand = visit(s.operand, scope);
        let field: CelT;
        if (operand.kind === 'object') {
          field = (Object.hasOwn(operand.fields, s.field) ? operand.fields[s.field] : undefined) ?? fail(e, `undefined field '${s.field}' of ${operand.name} (fields: ${Object.keys(operand.fields).join(', ')})`);
        } else if (operand.kind === 'map') {
          field = assignable(operand.key, T.string) ? operand.value : fail(e, `cannot select field '${s.field}' of ${typeName(operand)}`);
        } else if (isLoose(operand)) {
          field = T.dyn;
        } else {
          field = fail(e, `type '${typeName(operand)}' has no fields (selecting '${s.field}')`);
        }
        return s.testOnly ? T.bool : field;
      }
      case 'callExpr':
        return visitCall(e, scope);
      case 'listExpr': {
        const list = v as { elements: ExprNode[]; optionalIndices: number[] };
        if (list.optionalIndices?.length) return fail(e, 'optional syntax (.? and [?]) is not supported');
        let elem: CelT = T.unknown;
        for (const element of list.elements) elem = unify(elem, visit(element, scope)) ?? T.dyn;
        return T.list(elem);
      }
      case 'structExpr': {
        const struct = v as StructValue;
        if (struct.messageName) return fail(e, `message construction (${struct.messageName}{…}) is not supported`);
        let key: CelT = T.unknown;
        let value: CelT = T.unknown;
        for (const entry of struct.entries) {
          if (entry.keyKind.case !== 'mapKey') return fail(e, 'optional map entries are not supported');
          const keyNode = entry.keyKind.value as ExprNode;
          const k = visit(keyNode, scope);
          if (!['int', 'uint', 'bool', 'string', 'dyn'].includes(k.kind)) fail(keyNode, `a map key must be int, uint, bool or string, not ${typeName(k)}`);
          key = unify(key, k) ?? T.dyn;
          value = unify(value, visit(entry.value, scope)) ?? T.dyn;
        }
        return T.map(key, value);
      }
      case 'comprehensionExpr': {
        const c = v as ComprehensionValue;
        if (c.iterVar2) return fail(e, 'two-variable comprehensions are not supported');
        const range = visit(c.iterRange, scope);
        let item: CelT;
        if (range.kind === 'list') item = range.elem;
        else if (range.kind === 'map') item = range.key;
        else if (isLoose(range)) item = T.dyn;
        else item = fail(c.iterRange, `a macro (all, exists, exists_one, map, filter) needs a list or a map, not ${typeName(range)}`);
        const init = visit(c.accuInit, scope);
        const inner = new Map(scope).set(c.iterVar, item).set(c.accuVar, init);
        wantBool(e, visit(c.loopCondition, inner), 'the loop condition');
        const step = visit(c.loopStep, inner);
        const accu = unify(init, step) ?? fail(e, `the macro's result changes type (${typeName(init)} to ${typeName(step)})`);
        return visit(c.result, new Map(scope).set(c.accuVar, accu));
      }
      default:
        return fail(e, `unsupported expression (${e.exprKind.case})`);
    }
  };

  const type = visit(root, new Map());
  if (type.kind === 'dyn' || type.kind === 'unknown') {
    fail(root, 'the condition must be a bool expression, but its type is only known at run time (dyn): compare it, e.g. target.approved == true');
  } else if (type.kind !== 'bool') {
    fail(root, `the condition must be a bool expression, not ${typeName(type)}`);
  }
  return { type, constantCalls, regexLiterals };
}
