/**
 * Policy matching and selection (SPEC §4), pure: no I/O, no clock, no framework. CEL conditions are type-checked and
 * compiled once (on save, and into a cache when deciding), evaluated under a cost budget, and fail closed.
 */
import { CelInput, isCelError, parse, plan } from '@bufbuild/cel';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { conditionEnv, instrumentLoops, meteredEnv, regexError, runMetered } from './cel-budget';
import { checkExpression, ComprehensionValue, ExprNode, locate } from './cel-checker';

export const POLICY_EFFECTS = ['require_approval', 'auto_approve', 'deny'] as const;
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];

export const MAX_CONDITION_LENGTH = 4000;
/** Structural bounds checked at compile time: with them, the work between two budget charges stays small. */
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
  requester: { id: string; email: string; roles: string[]; groups: string[] };
  secret: { provider: string; cluster_name: string; ref: string; labels: Record<string, string> } | null;
  /** The plugin request's target (JSON); null for the built-in secret types. */
  target: Record<string, unknown> | null;
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

/** Bounds the expression's size and macro nesting (the type checker does the rest). */
function lint(root: ExprNode): string | undefined {
  let nodes = 0;
  const visit = (e: ExprNode | undefined, depth: number): string | undefined => {
    if (!e?.exprKind?.case) return undefined;
    if (++nodes > MAX_CONDITION_NODES) return `the expression is too large (more than ${MAX_CONDITION_NODES} nodes)`;
    const v = e.exprKind.value as Record<string, unknown>;
    switch (e.exprKind.case) {
      case 'selectExpr':
        return visit(v.operand as ExprNode, depth);
      case 'callExpr':
        for (const child of [v.target as ExprNode | undefined, ...(v.args as ExprNode[])]) {
          const issue = visit(child, depth);
          if (issue) return issue;
        }
        return undefined;
      case 'listExpr':
        for (const child of v.elements as ExprNode[]) {
          const issue = visit(child, depth);
          if (issue) return issue;
        }
        return undefined;
      case 'structExpr':
        for (const entry of v.entries as { keyKind: { case: string; value: unknown }; value: ExprNode }[]) {
          const issue = (entry.keyKind.case === 'mapKey' ? visit(entry.keyKind.value as ExprNode, depth) : undefined) ?? visit(entry.value, depth);
          if (issue) return issue;
        }
        return undefined;
      case 'comprehensionExpr': {
        const c = e.exprKind.value as ComprehensionValue;
        if (depth + 1 > MAX_COMPREHENSION_NESTING) return `macros (all, exists, exists_one, map, filter) nest at most ${MAX_COMPREHENSION_NESTING} deep`;
        return visit(c.iterRange, depth) ?? visit(c.accuInit, depth) ?? visit(c.loopCondition, depth + 1) ?? visit(c.loopStep, depth + 1) ?? visit(c.result, depth);
      }
      default:
        return undefined;
    }
  };
  return visit(root, 0);
}

/** JSON → CEL: objects become maps, numbers doubles (as JSON has them), arrays lists. */
function jsonToCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (value !== null && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, jsonToCel(v)]));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

/**
 * The CEL variables as declared in cel-checker.ts: maps for the records (so `has()` works), ints as bigint, `now` a
 * timestamp, and every absent value its type's zero value ("" / 0 / empty), so a typed condition never meets a null.
 */
function toBindings(input: PolicyInput): Record<string, CelInput> {
  const r = input.request;
  const labels = input.secret ? Object.entries(input.secret.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_CEL_LABELS) : [];
  return {
    request: new Map<string, CelInput>([
      ['type', r.type],
      ['workspace_id', r.workspace_id],
      ['environment_id', r.environment_id ?? ''],
      ['environment', r.environment ?? ''],
      ['environment_protected', r.environment_protected],
      ['access_duration_seconds', BigInt(Math.trunc(r.access_duration_seconds ?? 0))],
      // The issue's `request.target` and SPEC §4's top-level `target` are the same map.
      ['target', jsonToCel(input.target ?? {})],
    ]),
    requester: new Map<string, CelInput>([
      ['id', input.requester.id],
      ['email', input.requester.email],
      ['roles', [...input.requester.roles]],
      ['groups', [...input.requester.groups]],
    ]),
    secret: new Map<string, CelInput>([
      ['provider', input.secret?.provider ?? ''],
      ['cluster_name', input.secret?.cluster_name ?? ''],
      ['ref', input.secret?.ref ?? ''],
      ['labels', new Map(labels)],
    ]),
    target: jsonToCel(input.target ?? {}),
    now: timestampFromDate(input.now) as CelInput,
  };
}

/** Bindings are built once per input, however many conditions read them. */
const bindingsCache = new WeakMap<PolicyInput, Record<string, CelInput>>();
const bindingsOf = (input: PolicyInput) => {
  let bindings = bindingsCache.get(input);
  if (!bindings) bindingsCache.set(input, (bindings = toBindings(input)));
  return bindings;
};

/** The request every condition is tried on at save: all values empty. */
const EMPTY_INPUT: PolicyInput = {
  request: { type: '', workspace_id: '', environment_id: null, environment: null, environment_protected: false, access_duration_seconds: null },
  requester: { id: '', email: '', roles: [], groups: [] },
  secret: null,
  target: null,
  now: new Date(0),
};

const messageOf = (e: unknown) =>
  e instanceof RangeError && /call stack/i.test(e.message) ? 'the expression nests too deeply' : e instanceof Error ? e.message : String(e);

export interface CompileOptions {
  /**
   * Also run the condition once on an empty request and refuse it when that alone exhausts the budget (at save, so a
   * condition that can never finish is a 400 rather than a policy that always fails closed).
   */
  trial?: boolean;
}

/**
 * Compiles a condition: parse, bound its size, type-check it against the declared variables (it must be `bool`), run
 * its literal-only calls (a regex that does not compile, `timestamp("nope")`), then plan it metered. Returns a program,
 * or the message for 400 `details[{field:'condition'}]`.
 */
export function compileCondition(source: string, options: CompileOptions = {}): { condition: CompiledCondition } | { error: string } {
  if (source.length > MAX_CONDITION_LENGTH) return { error: `must be at most ${MAX_CONDITION_LENGTH} characters` };
  if (!source.trim()) return { error: 'must not be empty' };
  try {
    const parsed = parse(source);
    const root: ExprNode | undefined = parsed.expr;
    if (!root) return { error: 'must be an expression' };
    const issue = lint(root);
    if (issue) return { error: issue };
    const positions = parsed.sourceInfo?.positions ?? {};
    const { constantCalls, regexLiterals } = checkExpression(root, source, positions, conditionEnv);
    for (const { node, pattern } of regexLiterals) {
      const failure = regexError(pattern);
      if (failure) return { error: `${locate(source, positions, node)}invalid regular expression: ${failure}` };
    }
    for (const call of constantCalls) {
      const run = runMetered(() => plan(conditionEnv, call as never)());
      const failure = run.exhausted ?? (isCelError(run.value) ? run.value.message : undefined);
      if (failure) return { error: `${locate(source, positions, call)}${failure}` };
    }
    instrumentLoops(root);
    const program = plan(meteredEnv, parsed);
    const condition: CompiledCondition = {
      source,
      evaluate(input) {
        try {
          const run = runMetered(() => program(bindingsOf(input)));
          if (run.exhausted) return { error: run.exhausted };
          const result = run.value;
          if (isCelError(result)) return { error: result.message };
          if (typeof result !== 'boolean') return { error: `the condition evaluated to ${typeof result === 'bigint' ? 'int' : typeof result}, not bool` };
          return result;
        } catch (e) {
          return { error: messageOf(e) };
        }
      },
    };
    if (options.trial) {
      const run = runMetered(() => program(bindingsOf(EMPTY_INPUT)));
      if (run.exhausted) return { error: `${run.exhausted} already on a request whose values are all empty` };
    }
    return { condition };
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

/** What a condition that errors (or runs out of budget) counts as: the choice that grants least (SPEC §4). */
const FAIL_CLOSED: Record<PolicyEffect, boolean> = { deny: true, require_approval: true, auto_approve: false };

/** SPEC §4: candidates = enabled, matching, condition true; highest priority wins; ties by effect; none → tenant default. */
export function decide(policies: CompiledPolicy[], input: PolicyInput): PolicyDecision {
  const explanation: PolicyExplanation[] = [];
  const candidates: { policy: CompiledPolicy; entry: PolicyExplanation; note: string }[] = [];
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
    let note = '';
    if (policy.condition) {
      const result = policy.condition.evaluate(input);
      if (typeof result === 'object') {
        const matched = FAIL_CLOSED[policy.effect];
        note = `condition error: ${result.error} → treated as ${matched ? 'matched' : 'not matched'} (fail closed)`;
        if (!matched) {
          entry.reason = note;
          continue;
        }
      } else if (!result) {
        entry.reason = 'condition is false';
        continue;
      }
    }
    entry.matched = true;
    candidates.push({ policy, entry, note });
  }
  if (!candidates.length) return { effect: 'require_approval', policy_id: null, workflow_id: null, explanation };

  // Stable sort: among equal priority and effect, the earlier policy (list order) wins.
  const ranked = [...candidates].sort((a, b) => b.policy.priority - a.policy.priority || EFFECT_RANK[b.policy.effect] - EFFECT_RANK[a.policy.effect]);
  const winner = ranked[0];
  const tiedBelow = ranked.slice(1).filter((c) => c.policy.priority === winner.policy.priority);
  const beatenEffects = [...new Set(tiedBelow.map((c) => c.policy.effect).filter((e) => e !== winner.policy.effect))];
  const withNote = (reason: string, note: string) => (note ? `${reason}; ${note}` : reason);
  winner.entry.reason = withNote(
    beatenEffects.length ? `selected: highest priority; on the tie ${winner.policy.effect} beats ${beatenEffects.join(' and ')}` : 'selected: highest priority',
    winner.note,
  );
  for (const loser of ranked.slice(1)) loser.entry.reason = withNote(`matched but outranked by ${winner.policy.id}`, loser.note);
  return {
    effect: winner.policy.effect,
    policy_id: winner.policy.id,
    workflow_id: winner.policy.effect === 'require_approval' ? winner.policy.workflow_id : null,
    explanation,
  };
}
