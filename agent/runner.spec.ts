import { AgentApi, ApiError, ClaimedJob, Completion, parseRetryAfter } from './api-client';
import { Backoff } from './backoff';
import { generateKeyPair, openSealed, publicKeyOf } from './crypto';
import { JobFailure, JobHandler } from './handlers/handler';
import { Lifecycle } from './lifecycle';
import { createLogger } from './logger';
import { SecretProvider } from './providers/provider';
import { AgentRunner } from './runner';
import { sealToPublicKey } from '../src/common/crypto/x25519-seal';

const job = (type: string): ClaimedJob => ({ id: 'job_1', type, request_id: null, payload: {}, attempt: 1, lease_token: 'lease-1', lease_expires_at: new Date().toISOString() });

function fakeApi(jobs: ClaimedJob[], onComplete: (c: Completion) => void, claimError?: ApiError) {
  return {
    agentId: 'agt_1',
    heartbeat: jest.fn(async () => undefined),
    claim: jest.fn(async (_wait: number, signal?: AbortSignal) => {
      if (claimError) throw claimError;
      const next = jobs.shift();
      if (next) return next;
      await new Promise((r) => signal?.addEventListener('abort', r, { once: true }));
      throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    }),
    complete: jest.fn(async (_id: string, _lease: string, c: Completion) => onComplete(c)),
  } as unknown as AgentApi;
}

function runner(api: AgentApi, handlers: Map<string, JobHandler>, lines: string[]) {
  const log = createLogger('debug', { write: (l: string) => lines.push(l) });
  const lifecycle = new Lifecycle(log, 100);
  const r = new AgentRunner({ api, handlers, provider: {} as SecretProvider, clusterName: 'c', capabilities: ['file'], waitSeconds: 1, heartbeatSeconds: 60, privateKeyRaw: Buffer.alloc(32), log, lifecycle });
  return { r, lifecycle };
}

describe('AgentRunner', () => {
  it('completes an unknown job type as failed, naming the types it handles', async () => {
    const completions: Completion[] = [];
    const lines: string[] = [];
    const { r, lifecycle } = runner(fakeApi([job('secret.teleport')], (c) => completions.push(c)), new Map([['discovery.run', jest.fn()]]), lines);
    const done = r.run();
    while (!completions.length) await new Promise((res) => setTimeout(res, 5));
    lifecycle.requestStop('test');
    expect(await done).toBe(0);
    expect(completions[0]).toEqual({ status: 'failed', error: expect.stringContaining('Unsupported job type "secret.teleport"') });
    expect(completions[0].error).toContain('discovery.run');
  });

  it('reports a handler error as a failed completion and a result as succeeded', async () => {
    const completions: Completion[] = [];
    const handlers = new Map<string, JobHandler>([
      ['boom', async () => { throw new Error('disk on fire'); }],
      ['ok', async () => ({ n: 1 })],
    ]);
    const { r, lifecycle } = runner(fakeApi([job('boom'), job('ok')], (c) => completions.push(c)), handlers, []);
    const done = r.run();
    while (completions.length < 2) await new Promise((res) => setTimeout(res, 5));
    lifecycle.requestStop('test');
    expect(await done).toBe(0);
    expect(completions).toEqual([{ status: 'failed', error: 'disk on fire' }, { status: 'succeeded', result: { n: 1 } }]);
  });

  it('reports the result a JobFailure carries with the failed completion', async () => {
    const completions: Completion[] = [];
    const failure = Object.assign(new JobFailure('Command exited with code 3: denied'), { result: { exit_code: 3, output: 'partial' } });
    const handlers = new Map<string, JobHandler>([['script', async () => { throw failure; }]]);
    const { r, lifecycle } = runner(fakeApi([job('script')], (c) => completions.push(c)), handlers, []);
    const done = r.run();
    while (!completions.length) await new Promise((res) => setTimeout(res, 5));
    lifecycle.requestStop('test');
    expect(await done).toBe(0);
    expect(completions).toEqual([{ status: 'failed', error: 'Command exited with code 3: denied', result: { exit_code: 3, output: 'partial' } }]);
  });

  it('exits 1 when the server rejects the agent secret', async () => {
    const lines: string[] = [];
    const { r } = runner(fakeApi([], () => undefined, new ApiError(401, 'TOKEN_REVOKED', 'revoked', null, null)), new Map(), lines);
    expect(await r.run()).toBe(1);
    expect(lines.join('')).toContain('rejected the agent secret');
  });
});

describe('helpers', () => {
  it('Backoff doubles from 1 s to a 30 s cap, with jitter between half and all of the step', () => {
    const low = new Backoff(1000, 30_000, () => 0);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => low.next())).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    const high = new Backoff(1000, 30_000, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(() => high.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000]);
    high.reset();
    expect(high.next()).toBe(1000);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });

  it("opens a value sealed by the server's seal helper (SPEC §5 patch flow)", () => {
    const { publicKeyRaw, privateKeyRaw } = generateKeyPair();
    expect(publicKeyOf(privateKeyRaw).equals(publicKeyRaw)).toBe(true);
    const sealed = sealToPublicKey(publicKeyRaw, Buffer.from('new value'));
    expect(openSealed(privateKeyRaw, sealed).toString()).toBe('new value');
    expect(() => openSealed(privateKeyRaw, { ...sealed, tag: Buffer.alloc(16).toString('base64') })).toThrow();
  });
});
