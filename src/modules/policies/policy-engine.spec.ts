import { CompiledPolicy, compileCondition, decide, MAX_CONDITION_LENGTH, PolicyEffect, PolicyInput } from './policy-engine';

const input = (over: Partial<PolicyInput['request']> = {}, secret: PolicyInput['secret'] = { provider: 'file', cluster_name: 'c1', ref: 'db/password', labels: { team: 'payments' } }): PolicyInput => ({
  request: { type: 'secret.rotate', workspace_id: 'wsp_A', environment_id: 'env_P', environment: 'prod', environment_protected: true, access_duration_seconds: null, ...over },
  requester: { id: 'usr_1', email: 'dev@example.com', roles: ['requester'] },
  secret,
  now: new Date('2026-01-05T10:00:00Z'),
});

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

    it('returns the parser message for a syntax error', () => {
      const result = compileCondition('request.type ==');
      expect(result).toEqual({ error: expect.stringMatching(/<input>:1:\d+/) });
    });

    it('rejects unknown variables and functions at compile time, not at run time', () => {
      expect(compileCondition('requst.type == "x"')).toEqual({ error: expect.stringContaining("'requst'") });
      expect(compileCondition('frobnicate(request.type)')).toEqual({ error: expect.stringContaining("'frobnicate'") });
      // comprehension variables are in scope inside the macro
      expect('condition' in compileCondition('requester.roles.exists(r, r == "admin")')).toBe(true);
    });

    it('bounds size and macro nesting', () => {
      expect(compileCondition('x'.repeat(MAX_CONDITION_LENGTH + 1))).toEqual({ error: expect.stringContaining('4000') });
      expect(compileCondition('[1].all(a, [1].all(b, [1].all(c, true)))')).toEqual({ error: expect.stringContaining('nest') });
      expect('condition' in compileCondition('[1].all(a, [1].all(b, a == b))')).toBe(true);
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

    it('sees requester, secret labels, ints and now', () => {
      expect(decide([policy('deny', 1, { cel: '"requester" in requester.roles && secret.labels.team == "payments"' })], input()).effect).toBe('deny');
      expect(decide([policy('deny', 1, { cel: 'request.access_duration_seconds > 3600' })], input({ access_duration_seconds: 7200 })).effect).toBe('deny');
      expect(decide([policy('deny', 1, { cel: 'now.getDayOfWeek() == 1' })], input()).effect).toBe('deny');
      // secret is an empty map when the request has none
      expect(decide([policy('deny', 1, { cel: '!has(secret.labels)' })], input({}, null)).effect).toBe('deny');
    });

    it('a runtime error makes the policy not matched, with the error as its reason', () => {
      const p = policy('deny', 1, { cel: 'secret.labels.team == "payments"' });
      const decision = decide([p], input({}, null));
      expect(decision.policy_id).toBeNull();
      expect(decision.explanation[0]).toMatchObject({ matched: false, reason: expect.stringMatching(/^condition error: /) });
    });

    it('a non-boolean result is an error, not a match', () => {
      const decision = decide([policy('deny', 1, { cel: 'request.type' })], input());
      expect(decision.explanation[0].reason).toBe('condition error: the condition evaluated to string, not bool');
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
