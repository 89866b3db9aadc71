import { EVALUATION_DEADLINE_MS, MAX_EVALUATION_COST } from './cel-budget';
import { CompiledPolicy, compileCondition, decide, MAX_CONDITION_LENGTH, PolicyEffect, PolicyInput } from './policy-engine';

const input = (
  over: Partial<PolicyInput['request']> = {},
  secret: PolicyInput['secret'] = { provider: 'file', cluster_name: 'c1', ref: 'db/password', labels: { team: 'payments' } },
  target: PolicyInput['target'] = null,
): PolicyInput => ({
  request: { type: 'secret.rotate', workspace_id: 'wsp_A', environment_id: 'env_P', environment: 'prod', environment_protected: true, access_duration_seconds: null, ...over },
  requester: { id: 'usr_1', email: 'dev@example.com', roles: ['requester'], groups: [] },
  secret,
  target,
  now: new Date('2026-01-05T10:00:00Z'),
});

const rejection = (source: string) => {
  const compiled = compileCondition(source, { trial: true });
  return 'error' in compiled ? compiled.error : undefined;
};
/** A list literal `[1,2,…,n]`. */
const numbers = (n: number) => `[${Array.from({ length: n }, (_, i) => i + 1).join(',')}]`;
/** Nested macros over literal lists: tens of seconds of work unbounded (≈ 0.5 s per 300×300 on an idle machine). */
const hostile = (n = 300) => `${numbers(n)}.map(x, ${numbers(n)}.map(y, x * y)).size() > 0`;

const condition = (source: string) => {
  const compiled = compileCondition(source);
  if ('error' in compiled) throw new Error(compiled.error);
  return compiled.condition;
};

let seq = 0;
const policy = (effect: PolicyEffect, priority: number, over: Partial<CompiledPolicy> & { cel?: string } = {}): CompiledPolicy => {
  const id = over.id ?? `pol_${++seq}`;
  return {
    id,
    name: over.name ?? id,
    priority,
    effect,
    workflow_id: effect === 'require_approval' ? 'wfl_1' : null,
    enabled: over.enabled ?? true,
    match: { request_types: [], workspace_ids: [], environment_ids: [], secret_labels: {}, ...over.match },
    condition: over.cel ? condition(over.cel) : null,
  };
};

describe('policy engine', () => {
  describe('compileCondition', () => {
    it('compiles a valid expression over the SPEC variables', () => {
      expect('condition' in compileCondition('request.environment_protected && request.type == "secret.rotate"')).toBe(true);
      expect('condition' in compileCondition('"admin" in requester.roles && now > timestamp("2020-01-01T00:00:00Z")')).toBe(true);
      expect('condition' in compileCondition('secret.labels.exists(k, k == "team")')).toBe(true);
    });

    it('type-checks every declared variable and field with its declared type', () => {
      const accepted = [
        'request.type == "secret.rotate" && request.workspace_id.startsWith("wsp_") && request.environment == "prod"',
        'request.environment_protected && request.access_duration_seconds > 3600 && request.environment_id != ""',
        'requester.id != "" && requester.email.endsWith("@example.com") && "admin" in requester.roles && requester.groups.size() == 0',
        'secret.provider == "vault" && secret.cluster_name.matches("^prod-") && secret.ref.contains("db") && secret.labels["team"] == "payments"',
        'has(target.region) && target.region == "eu" && target.count > 2 && "a" in target.tags',
        'now.getDayOfWeek() >= 1 && now - duration("1h") < now',
        'requester.roles.map(r, r.upperAscii()).filter(r, r.size() > 3).exists_one(r, r == "ADMIN")',
        'secret.labels.all(k, secret.labels[k].size() < 100) && type(request.type) == string',
        'strings.quote(request.type) != "" && [1, 2].map(x, x * 2)[1] == 4 && {"a": 1}["a"] == 1',
      ];
      for (const source of accepted) expect([source, rejection(source)]).toEqual([source, undefined]);
    });

    it('returns the parser message for a syntax error', () => {
      const result = compileCondition('request.type ==');
      expect(result).toEqual({ error: expect.stringMatching(/<input>:1:\d+/) });
    });

    it('rejects unknown variables, fields and functions at compile time, not at run time', () => {
      expect(compileCondition('requst.type == "x"')).toEqual({ error: expect.stringContaining("'requst'") });
      expect(compileCondition('frobnicate(request.type)')).toEqual({ error: expect.stringContaining("'frobnicate'") });
      expect(rejection('request.typo == "x"')).toBe(
        "<input>:1:8: undefined field 'typo' of request (fields: type, workspace_id, environment_id, environment, environment_protected, access_duration_seconds, target)",
      );
      expect(rejection('request.constructor == "x"')).toContain("undefined field 'constructor'");
      // comprehension variables are in scope inside the macro, and only there
      expect('condition' in compileCondition('requester.roles.exists(r, r == "admin")')).toBe(true);
      expect(rejection('requester.roles.exists(r, r == "admin") && r == "x"')).toContain("undeclared reference to 'r'");
    });

    it('requires a bool result: `1 + 1`, a string, a dyn value are refused with the checker message', () => {
      expect(rejection('1 + 1')).toBe('<input>:1:2: the condition must be a bool expression, not int');
      expect(rejection('request.type')).toBe('<input>:1:8: the condition must be a bool expression, not string');
      expect(rejection('target.approved')).toContain('dyn');
      expect(rejection('target.approved == true')).toBeUndefined();
    });

    it('rejects operands of the wrong type', () => {
      expect(rejection('request.type == 1')).toBe("<input>:1:14: found no matching overload for '_==_' applied to '(string, int)'");
      expect(rejection('request.access_duration_seconds > "1h"')).toContain("'_>_'");
      expect(rejection('requester.roles.map(r, r + 1).size() > 0')).toContain("'_+_' applied to '(string, int)'");
      expect(rejection('requester.roles.all(r, r)')).toContain('must be bool, not string');
      expect(rejection('size(request) > 0')).toContain("'size' applied to '(request)'");
      expect(rejection('request.environment == null')).toContain('(string, null_type)');
      expect(rejection('true ? 1 : "a"')).toContain('different types');
    });

    it('compiles literal regular expressions and literal-only calls at save', () => {
      expect(rejection("request.type.matches('(')")).toBe('<input>:1:22: invalid regular expression: error parsing regexp: missing closing ): `(`');
      expect(rejection("matches('(')")).toContain("no matching overload for 'matches'");
      expect(rejection('now > timestamp("yesterday")')).toContain('timestamp');
      expect(rejection('request.access_duration_seconds > 1 / 0')).toContain('divide by zero');
      expect(rejection('request.type.matches("^secret\\\\.")')).toBeUndefined();
    });

    it('bounds size and macro nesting', () => {
      expect(compileCondition('x'.repeat(MAX_CONDITION_LENGTH + 1))).toEqual({ error: expect.stringContaining('4000') });
      expect(compileCondition('[1].all(a, [1].all(b, [1].all(c, true)))')).toEqual({ error: expect.stringContaining('nest') });
      expect('condition' in compileCondition('[1].all(a, [1].all(b, a == b))')).toBe(true);
    });

    it('at save, refuses a condition that exhausts its budget even on an empty request', () => {
      expect(rejection(hostile())).toMatch(/^the condition (exceeded its evaluation budget \(\d+ steps\)|ran longer than its \d+ ms deadline) already on a request whose values are all empty$/);
      // Input-dependent work cannot be refused at save: it is bounded at evaluation (below).
      expect(rejection(`request.type == "x.hostile" && ${hostile()}`)).toBeUndefined();
    });
  });

  describe('matching', () => {
    it('empty match lists match everything', () => {
      const p = policy('auto_approve', 0);
      expect(decide([p], input()).policy_id).toBe(p.id);
      expect(decide([p], input({ environment_id: null, environment: null }, null)).policy_id).toBe(p.id);
    });

    it('explains request_types, workspace, environment and label mismatches', () => {
      const policies = [
        policy('deny', 5, { match: { request_types: ['secret.read'], workspace_ids: [], environment_ids: [], secret_labels: {} } }),
        policy('deny', 5, { match: { request_types: [], workspace_ids: ['wsp_B'], environment_ids: [], secret_labels: {} } }),
        policy('deny', 5, { match: { request_types: [], workspace_ids: [], environment_ids: ['env_D'], secret_labels: {} } }),
        policy('deny', 5, { match: { request_types: [], workspace_ids: [], environment_ids: [], secret_labels: { team: 'billing' } } }),
        policy('deny', 5, { match: { request_types: [], workspace_ids: [], environment_ids: [], secret_labels: { tier: 'gold' } } }),
      ];
      const decision = decide(policies, input());
      expect(decision.policy_id).toBeNull();
      expect(decision.explanation.map((e) => e.reason)).toEqual([
        'request_types does not include secret.rotate',
        'workspace_ids does not include wsp_A',
        'environment_ids does not include env_P',
        'secret label team is "payments", not "billing"',
        'secret label tier is absent (wanted "gold")',
      ]);
      expect(decide([policies[3]], input({}, null)).explanation[0].reason).toBe('secret_labels is set and the request has no secret');
    });

    it('requires every secret label to match', () => {
      const p = policy('auto_approve', 0, { match: { request_types: [], workspace_ids: [], environment_ids: [], secret_labels: { team: 'payments', tier: 'gold' } } });
      expect(decide([p], input()).policy_id).toBeNull();
      expect(decide([p], input({}, { provider: 'file', cluster_name: 'c', ref: 'r', labels: { team: 'payments', tier: 'gold', x: 'y' } })).policy_id).toBe(p.id);
    });

    it('skips disabled policies', () => {
      const p = policy('deny', 100, { enabled: false });
      const decision = decide([p], input());
      expect(decision).toMatchObject({ effect: 'require_approval', policy_id: null });
      expect(decision.explanation[0]).toMatchObject({ matched: false, reason: 'disabled' });
    });
  });

  describe('conditions', () => {
    it('a true condition matches, a false one does not, and says so', () => {
      const yes = policy('deny', 1, { cel: 'request.environment_protected && request.type == "secret.rotate"' });
      const no = policy('deny', 1, { cel: 'request.environment == "dev"' });
      expect(decide([yes], input())).toMatchObject({ effect: 'deny', policy_id: yes.id });
      expect(decide([no], input()).explanation[0]).toMatchObject({ matched: false, reason: 'condition is false' });
    });

    it('sees requester, secret labels, ints, target and now', () => {
      expect(decide([policy('deny', 1, { cel: '"requester" in requester.roles && secret.labels.team == "payments"' })], input()).effect).toBe('deny');
      expect(decide([policy('deny', 1, { cel: 'request.access_duration_seconds > 3600' })], input({ access_duration_seconds: 7200 })).effect).toBe('deny');
      expect(decide([policy('deny', 1, { cel: 'now.getDayOfWeek() == 1' })], input()).effect).toBe('deny');
      const target = { region: 'eu', count: 3, tags: ['a'], nested: { on: true } };
      expect(decide([policy('deny', 1, { cel: 'target.region == "eu" && target.count == 3 && "a" in target.tags && target.nested.on == true' })], input({}, null, target)).effect).toBe(
        'deny',
      );
    });

    it('absent values are their zero value, so typed conditions stay total', () => {
      const none = input({ environment_id: null, environment: null, access_duration_seconds: null }, null);
      const cel = 'secret.ref == "" && secret.provider == "" && secret.labels.size() == 0 && request.environment == "" && request.access_duration_seconds == 0 && target.size() == 0';
      expect(decide([policy('deny', 1, { cel })], none).effect).toBe('deny');
    });

    it('an evaluation error fails closed: deny and require_approval match, auto_approve does not; the explanation names the error', () => {
      const cel = 'secret.labels["missing"] == "x"';
      const deny = decide([policy('deny', 1, { cel })], input());
      expect(deny).toMatchObject({ effect: 'deny', policy_id: expect.stringMatching(/^pol_/) });
      expect(deny.explanation[0]).toEqual(
        expect.objectContaining({ matched: true, reason: 'selected: highest priority; condition error: field not found: missing → treated as matched (fail closed)' }),
      );

      const approval = policy('require_approval', 1, { cel: 'request.access_duration_seconds / 0 == 1' });
      const required = decide([approval], input());
      expect(required).toMatchObject({ effect: 'require_approval', policy_id: approval.id, workflow_id: 'wfl_1' });
      expect(required.explanation[0].reason).toBe('selected: highest priority; condition error: int divide by zero → treated as matched (fail closed)');

      const auto = policy('auto_approve', 1, { cel });
      const notAuto = decide([auto], input());
      expect(notAuto).toMatchObject({ effect: 'require_approval', policy_id: null });
      expect(notAuto.explanation[0]).toEqual(expect.objectContaining({ matched: false, reason: 'condition error: field not found: missing → treated as not matched (fail closed)' }));
    });

    it('a condition error loses to a higher-priority policy and still says why it matched', () => {
      const failing = policy('deny', 1, { cel: 'secret.labels.nope == "x"' });
      const winner = policy('auto_approve', 5);
      const decision = decide([failing, winner], input());
      expect(decision.policy_id).toBe(winner.id);
      expect(decision.explanation[0].reason).toBe(`matched but outranked by ${winner.id}; condition error: field not found: nope → treated as matched (fail closed)`);
    });
  });

  describe('evaluation budget', () => {
    const hostileInput = input({ type: 'x.hostile' });
    const deadline = (ms: number) => expect(ms).toBeLessThan(1000);

    it(`stops a hostile condition within its budget (${MAX_EVALUATION_COST} steps) or deadline (${EVALUATION_DEADLINE_MS} ms), and fails closed`, () => {
      const p = policy('deny', 1, { cel: `request.type == "x.hostile" && ${hostile()}` });
      const started = performance.now();
      const decision = decide([p], hostileInput);
      const elapsed = performance.now() - started;
      // Unbounded, this is seconds of work; bounded, ~10–50 ms (1 s leaves room for a busy machine).
      deadline(elapsed);
      expect(decision).toMatchObject({ effect: 'deny', policy_id: p.id });
      expect(decision.explanation[0].reason).toMatch(/condition error: the condition (exceeded its evaluation budget \(\d+ steps\)|ran longer than its 50 ms deadline) → treated as matched \(fail closed\)$/);
      expect(decide([p], input()).explanation[0].reason).toBe('condition is false');
    });

    it('bounds string building, joins, regexes and deep equality too', () => {
      const sources = [
        `request.type == "x.hostile" && ${numbers(300)}.map(x, ${numbers(300)}.map(y, string(y)).join(",")).join(",").size() > 0`,
        `request.type == "x.hostile" && ${numbers(300)}.all(x, ${numbers(300)}.all(y, "${'a'.repeat(60)}".matches("(a|aa)*(b|a)+$")))`,
        `request.type == "x.hostile" && ${numbers(300)}.map(x, ${numbers(300)}).all(l, l == ${numbers(300)})`,
        `request.type == "x.hostile" && ${numbers(30)}.all(x, "${'ab'.repeat(100)}".replace("", "${'0123456789'.repeat(20)}").size() > 0)`,
      ];
      for (const source of sources) {
        const started = performance.now();
        const result = policy('deny', 1, { cel: source }).condition!.evaluate(hostileInput);
        deadline(performance.now() - started);
        expect(result).toEqual({ error: expect.stringMatching(/^the condition (exceeded its evaluation budget \(\d+ steps\)|ran longer than its 50 ms deadline)/) });
      }
    });

    it('budget exhaustion is an error even where CEL would absorb an error (`error || true`)', () => {
      const result = policy('auto_approve', 1, { cel: `(request.type == "x.hostile" && ${hostile()}) || true` }).condition!.evaluate(hostileInput);
      expect(result).toEqual({ error: expect.stringMatching(/^the condition (exceeded|ran longer)/) });
    });

    it('ordinary conditions never fail closed, not even 2,000 in a row on a busy machine (a deadline-only stop is retried)', () => {
      const c = condition('request.environment_protected && "admin" in requester.roles || secret.labels.exists(k, k == "team") && request.type.matches("^secret\\\\.")');
      const runs = 2000;
      const request = input();
      let matched = 0;
      for (let i = 0; i < runs; i++) if (c.evaluate(request) === true) matched++;
      // Its cost is measured in bench/, not here; what must hold everywhere is the answer.
      expect(matched).toBe(runs);
    });
  });

  describe('selection', () => {
    it('highest priority wins and the others are outranked', () => {
      const low = policy('auto_approve', 10);
      const high = policy('require_approval', 20);
      const decision = decide([low, high], input());
      expect(decision).toMatchObject({ effect: 'require_approval', policy_id: high.id, workflow_id: 'wfl_1' });
      expect(decision.explanation).toEqual([
        expect.objectContaining({ policy_id: low.id, matched: true, reason: `matched but outranked by ${high.id}` }),
        expect.objectContaining({ policy_id: high.id, matched: true, reason: 'selected: highest priority' }),
      ]);
    });

    it('on a tie deny beats require_approval beats auto_approve', () => {
      const auto = policy('auto_approve', 5);
      const approval = policy('require_approval', 5);
      const deny = policy('deny', 5);
      expect(decide([auto, approval, deny], input())).toMatchObject({ effect: 'deny', policy_id: deny.id, workflow_id: null });
      expect(decide([auto, approval], input())).toMatchObject({ effect: 'require_approval', policy_id: approval.id });
      expect(decide([approval, auto], input()).explanation.find((e) => e.policy_id === approval.id)?.reason).toBe(
        'selected: highest priority; on the tie require_approval beats auto_approve',
      );
    });

    it('without a candidate: require_approval with the tenant default workflow (null ids)', () => {
      expect(decide([], input())).toEqual({ effect: 'require_approval', policy_id: null, workflow_id: null, explanation: [] });
    });

    it('auto_approve and deny carry no workflow', () => {
      expect(decide([policy('auto_approve', 0)], input()).workflow_id).toBeNull();
    });
  });
});
