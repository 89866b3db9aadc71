import { AuditEventRow } from './audit-event.entity';
import { canonicalJson, chainHash, GENESIS_HASH } from './audit-chain';

const event = (over: Partial<AuditEventRow> = {}): AuditEventRow => ({
  id: 'aud_01JD3Z6Q8Y4K2M9V7T5R3P1N0B',
  occurred_at: new Date('2026-11-22T10:30:00.000Z'),
  tenant_id: 'ten_1',
  actor_type: 'user',
  actor_id: 'usr_1',
  actor_label: 'a@b.c',
  action: 'workspace.created',
  resource_type: 'workspace',
  resource_id: 'wsp_1',
  outcome: 'success',
  request_id: 'req-12345678',
  correlation_id: 'req-12345678',
  ip: '127.0.0.1',
  user_agent: 'jest',
  payload: { b: 1, a: { d: [1, 2], c: 'x' } },
  ...over,
});

describe('audit hash chain', () => {
  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('is deterministic and matches a fixed vector', () => {
    expect(chainHash(GENESIS_HASH, event())).toBe(chainHash(GENESIS_HASH, event({ payload: { a: { c: 'x', d: [1, 2] }, b: 1 } })));
    expect(chainHash(GENESIS_HASH, event())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any field and with the previous hash', () => {
    const base = chainHash(GENESIS_HASH, event());
    expect(chainHash(GENESIS_HASH, event({ action: 'workspace.deleted' }))).not.toBe(base);
    expect(chainHash(GENESIS_HASH, event({ payload: { b: 2, a: { d: [1, 2], c: 'x' } } }))).not.toBe(base);
    expect(chainHash('f'.repeat(64), event())).not.toBe(base);
  });
});
