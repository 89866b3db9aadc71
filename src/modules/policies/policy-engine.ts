/**
 * Policy matching and selection (SPEC §4), pure: no I/O, no clock, no framework. CEL conditions are compiled once
 * (on save, and into a cache when deciding) and evaluated against a bounded input.
 */
import { CelInput, celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';

export const POLICY_EFFECTS = ['require_approval', 'auto_approve', 'deny'] as const;
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];

export const MAX_CONDITION_LENGTH = 4000;
/** Structural bounds checked at compile time: they bound evaluation cost (CEL has no loops, only macros). */
export const MAX_CONDITION_NODES = 1000;
export const MAX_COMPREHENSION_NESTING = 2;
/** At most this many secret labels reach a condition (the `match` filter sees all of them). */
export const MAX_CEL_LABELS = 100;

export interface PolicyInput {
  request: {
    type: string;
    workspace_id: string;
    environment_id: string | null;
    environment: string | null;
    environment_protected: boolean;
    access_duration_seconds: number | null;
  };
  requester: { id: string; email: string; roles: string[] };
  secret: { provider: string; cluster_name: string; ref: string; labels: Record<string, string> } | null;
  now: Date;
}

export interface PolicyMatch {
  request_types: string[];
  workspace_ids: string[];
  environment_ids: string[];
  secret_labels: Record<string, string>;
}

export interface PolicyExplanation {
  policy_id: string;
  name: string;
  priority: number;
  effect: PolicyEffect;
  matched: boolean;
  reason: string;
}

export interface PolicyDecision {
  effect: PolicyEffect;
  /** The winning policy; null when none matched (the tenant default applies). */
  policy_id: string | null;
  /** The winning policy's workflow; null for the tenant default workflow (and for deny / auto_approve). */
  workflow_id: string | null;
  explanation: PolicyExplanation[];
}

/** A compiled CEL condition: evaluates to true, false, or an error message (never throws). */
export interface CompiledCondition {
  source: string;
  evaluate(input: PolicyInput): boolean | { error: string };
}

export interface CompiledPolicy {
  id: string;
  name: string;
  priority: number;
  effect: PolicyEffect;
  workflow_id: string | null;
  enabled: boolean;
  match: PolicyMatch;
  condition: CompiledCondition | null;
}

const VARIABLES = new Set(['request', 'requester', 'secret', 'now']);
/** Type names usable as values (`type(x) == string`). */
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
/** Operators the evaluator implements itself rather than through its function table. */
const SPECIAL_FUNCTIONS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '_[?_]', '_?._', '@not_strictly_false']);

const env = celEnv({ funcs: strings });

interface ExprNode {
  exprKind: { case: string | undefined; value?: unknown };
}
interface CallValue {
  function: string;
  target?: ExprNode;
  args: ExprNode[];
}
interface ComprehensionValue {
  iterVar: string;
  iterVar2: string;
  accuVar: string;
  iterRange?: ExprNode;
  accuInit?: ExprNode;
  loopCondition?: ExprNode;
  loopStep?: ExprNode;
  result?: ExprNode;
}

/** Rejects what CEL would only find at run time (unknown variables and functions) and expressions beyond our bounds. */
function lint(root: ExprNode): string | undefined {
  let nodes = 0;
  const visit = (e: ExprNode | undefined, scope: Set<string>, depth: number): string | undefined => {
    if (!e?.exprKind?.case) return undefined;
    if (++nodes > MAX_CONDITION_NODES) return `the expression is too large (more than ${MAX_CONDITION_NODES} nodes)`;
    const v = e.exprKind.value as Record<string, unknown>;
    switch (e.exprKind.case) {
      case 'identExpr': {
        const name = v.name as string;
        if (scope.has(name) || VARIABLES.has(name) || TYPE_NAMES.has(name)) return undefined;
        return `undeclared reference to '${name}' (variables: request, requester, secret, now)`;
      }
      case 'selectExpr':
        return visit(v.operand as ExprNode, scope, depth);
      case 'callExpr': {
        const call = v as unknown as CallValue;
        if (!SPECIAL_FUNCTIONS.has(call.function) && !env.funcs.find(call.function)) return `undeclared reference to function '${call.function}'`;
        for (const child of [call.target, ...call.args]) {
          const issue = visit(child, scope, depth);
          if (issue) return issue;
        }
        return undefined;
      }
      case 'listExpr':
        for (const child of v.elements as ExprNode[]) {
          const issue = visit(child, scope, depth);
          if (issue) return issue;
        }
        return undefined;
      case 'structExpr':
        for (const entry of v.entries as { keyKind: { case: string; value: unknown }; value: ExprNode }[]) {
          const issue = (entry.keyKind.case === 'mapKey' ? visit(entry.keyKind.value as ExprNode, scope, depth) : undefined) ?? visit(entry.value, scope, depth);
          if (issue) return issue;
        }
        return undefined;
      case 'comprehensionExpr': {
        const c = v as unknown as ComprehensionValue;
        if (depth + 1 > MAX_COMPREHENSION_NESTING) return `macros (all, exists, exists_one, map, filter) nest at most ${MAX_COMPREHENSION_NESTING} deep`;
        const inner = new Set([...scope, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
        return (
          visit(c.iterRange, scope, depth) ??
          visit(c.accuInit, scope, depth) ??
          visit(c.loopCondition, inner, depth + 1) ??
          visit(c.loopStep, inner, depth + 1) ??
          visit(c.result, inner, depth)
        );
      }
      default:
        return undefined;
    }
  };
  return visit(root, new Set(), 0);
}

const toCelMap = (o: Record<string, unknown>) => new Map(Object.entries(o));

/** The CEL variables: maps for the objects (so `has()` and `in` work), ints as bigint, `now` a timestamp. */
function toBindings(input: PolicyInput): Record<string, CelInput> {
  const r = input.request;
  const int = (n: number | null) => (n === null ? null : BigInt(Math.trunc(n)));
  const labels = input.secret ? Object.entries(input.secret.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_CEL_LABELS) : [];
  return {
    request: toCelMap({
      type: r.type,
      workspace_id: r.workspace_id,
      environment_id: r.environment_id,
      environment: r.environment,
      environment_protected: r.environment_protected,
      access_duration_seconds: int(r.access_duration_seconds),
    }) as CelInput,
    requester: toCelMap({ id: input.requester.id, email: input.requester.email, roles: [...input.requester.roles] }) as CelInput,
    secret: (input.secret
      ? toCelMap({ provider: input.secret.provider, cluster_name: input.secret.cluster_name, ref: input.secret.ref, labels: new Map(labels) })
      : new Map()) as CelInput,
    now: timestampFromDate(input.now) as CelInput,
  };
}

const messageOf = (e: unknown) =>
  e instanceof RangeError && /call stack/i.test(e.message) ? 'the expression nests too deeply' : e instanceof Error ? e.message : String(e);

/** Compiles a condition: a program, or the compiler's message (for 400 `details[{field:'condition'}]`). */
export function compileCondition(source: string): { condition: CompiledCondition } | { error: string } {
  if (source.length > MAX_CONDITION_LENGTH) return { error: `must be at most ${MAX_CONDITION_LENGTH} characters` };
  if (!source.trim()) return { error: 'must not be empty' };
  try {
    const parsed = parse(source);
    const issue = lint(parsed.expr as unknown as ExprNode);
    if (issue) return { error: issue };
    const program = plan(env, parsed);
    return {
      condition: {
        source,
        evaluate(input) {
          try {
            const result = program(toBindings(input));
            if (isCelError(result)) return { error: result.message };
            if (typeof result !== 'boolean') return { error: `the condition evaluated to ${typeof result === 'bigint' ? 'int' : typeof result}, not bool` };
            return result;
          } catch (e) {
            return { error: messageOf(e) };
          }
        },
      },
    };
  } catch (e) {
    return { error: messageOf(e) };
  }
}

/** Why the policy's `match` does not fit the input, or undefined when it does. Empty lists match everything. */
export function mismatch(match: PolicyMatch, input: PolicyInput): string | undefined {
  const r = input.request;
  if (match.request_types.length && !match.request_types.includes(r.type)) return `request_types does not include ${r.type}`;
  if (match.workspace_ids.length && !match.workspace_ids.includes(r.workspace_id)) return `workspace_ids does not include ${r.workspace_id}`;
  if (match.environment_ids.length && (r.environment_id === null || !match.environment_ids.includes(r.environment_id))) {
    return r.environment_id === null ? 'environment_ids is set and the request has no environment' : `environment_ids does not include ${r.environment_id}`;
  }
  for (const [key, value] of Object.entries(match.secret_labels)) {
    if (!input.secret) return 'secret_labels is set and the request has no secret';
    const actual = input.secret.labels[key];
    if (actual === undefined) return `secret label ${key} is absent (wanted "${value}")`;
    if (actual !== value) return `secret label ${key} is "${actual}", not "${value}"`;
  }
  return undefined;
}

/** deny beats require_approval beats auto_approve on equal priority. */
const EFFECT_RANK: Record<PolicyEffect, number> = { deny: 3, require_approval: 2, auto_approve: 1 };

/** SPEC §4: candidates = enabled, matching, condition true; highest priority wins; ties by effect; none → tenant default. */
export function decide(policies: CompiledPolicy[], input: PolicyInput): PolicyDecision {
  const explanation: PolicyExplanation[] = [];
  const candidates: { policy: CompiledPolicy; entry: PolicyExplanation }[] = [];
  for (const policy of policies) {
    const entry: PolicyExplanation = { policy_id: policy.id, name: policy.name, priority: policy.priority, effect: policy.effect, matched: false, reason: '' };
    explanation.push(entry);
    if (!policy.enabled) {
      entry.reason = 'disabled';
      continue;
    }
    const miss = mismatch(policy.match, input);
    if (miss) {
      entry.reason = miss;
      continue;
    }
    if (policy.condition) {
      const result = policy.condition.evaluate(input);
      if (typeof result === 'object') {
        entry.reason = `condition error: ${result.error}`;
        continue;
      }
      if (!result) {
        entry.reason = 'condition is false';
        continue;
      }
    }
    entry.matched = true;
    candidates.push({ policy, entry });
  }
  if (!candidates.length) return { effect: 'require_approval', policy_id: null, workflow_id: null, explanation };

  // Stable sort: among equal priority and effect, the earlier policy (list order) wins.
  const ranked = [...candidates].sort((a, b) => b.policy.priority - a.policy.priority || EFFECT_RANK[b.policy.effect] - EFFECT_RANK[a.policy.effect]);
  const winner = ranked[0];
  const tiedBelow = ranked.slice(1).filter((c) => c.policy.priority === winner.policy.priority);
  const beatenEffects = [...new Set(tiedBelow.map((c) => c.policy.effect).filter((e) => e !== winner.policy.effect))];
  winner.entry.reason = beatenEffects.length
    ? `selected: highest priority; on the tie ${winner.policy.effect} beats ${beatenEffects.join(' and ')}`
    : 'selected: highest priority';
  for (const loser of ranked.slice(1)) loser.entry.reason = `matched but outranked by ${winner.policy.id}`;
  return {
    effect: winner.policy.effect,
    policy_id: winner.policy.id,
    workflow_id: winner.policy.effect === 'require_approval' ? winner.policy.workflow_id : null,
    explanation,
  };
}
