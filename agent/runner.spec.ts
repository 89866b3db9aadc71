import { AgentApi, ApiError, ClaimedJob, Completion, CompletionResult, JobCompletion, parseRetryAfter } from './api-client';
import { Backoff } from './backoff';
import { generateKeyPair, openSealed, publicKeyOf } from './crypto';
import { JobFailure, JobHandler } from './handlers/handler';
import { Lifecycle } from './lifecycle';
import { createLogger } from './logger';
import { SecretProvider } from './providers/provider';
import { AgentRunner } from './runner';
import { sealToPublicKey } from '../src/common/crypto/x25519-seal';

let jobIds = 0;
const job = (type: string): ClaimedJob => {
  const n = ++jobIds;
  return { id: `job_${n}`, type, request_id: null, payload: {}, attempt: 1, lease_token: `lease-${n}`, lease_expires_at: new Date().toISOString() };
};

interface FakeApiLog {
  /** `max_jobs` of every claim. */
  claims: number[];
  /** The completions of every batch call. */
  batches: JobCompletion[][];
}

function fakeApi(jobs: ClaimedJob[], onComplete: (c: Completion) => void, claimError?: ApiError, outcome: (c: JobCompletion) => CompletionResult['outcome'] = () => 'completed') {
  const calls: FakeApiLog = { claims: [], batches: [] };
  const api = {
    agentId: 'agt_1',
    heartbeat: jest.fn(async () => undefined),
    claim: jest.fn(async (maxJobs: number, _wait: number, signal?: AbortSignal) => {
      calls.claims.push(maxJobs);
      if (claimError) throw claimError;
      if (jobs.length) return jobs.splice(0, maxJobs);
      await new Promise((r) => signal?.addEventListener('abort', r, { once: true }));
      throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    }),
    complete: jest.fn(async (completions: JobCompletion[]) => {
      calls.batches.push(completions);
      for (const { job_id: _id, lease_token: _lease, ...c } of completions) onComplete(c);
      return completions.map((c) => ({ job_id: c.job_id, outcome: outcome(c) }));
    }),
  } as unknown as AgentApi;
  return Object.assign(api, { calls });
}

function runner(api: AgentApi, handlers: Map<string, JobHandler>, lines: string[], concurrency = 1) {
  const log = createLogger('debug', { write: (l: string) => lines.push(l) });
  const lifecycle = new Lifecycle(log, 100);
  const r = new AgentRunner({ api, handlers, provider: {} as SecretProvider, clusterName: 'c', capabilities: ['file'], waitSeconds: 1, heartbeatSeconds: 60, concurrency, privateKeyRaw: Buffer.alloc(32), log, lifecycle });
  return { r, lifecycle };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((res) => setTimeout(res, 5));
  expect(condition()).toBe(true);
};

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

  it('runs at most `concurrency` jobs at once and claims max_jobs = free workers', async () => {
    const completions: Completion[] = [];
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const handlers = new Map<string, JobHandler>([
      [
        'slow',
        async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise<void>((release) => gates.push(release));
          running--;
          return {};
        },
      ],
    ]);
    const api = fakeApi(Array.from({ length: 10 }, () => job('slow')), (c) => completions.push(c));
    const { r, lifecycle } = runner(api, handlers, [], 3);
    const done = r.run();
    await until(() => gates.length === 3);
    expect(api.calls.claims).toEqual([3]);
    gates.shift()?.();
    // One worker freed (after its completion was reported): the next claim asks for exactly one job.
    await until(() => gates.length === 3 && completions.length === 1);
    expect(api.calls.claims).toEqual([3, 1]);
    while (completions.length < 10) {
      gates.shift()?.();
      await new Promise((res) => setTimeout(res, 2));
    }
    lifecycle.requestStop('test');
    expect(await done).toBe(0);
    expect(peak).toBe(3);
    expect(api.calls.claims.every((n) => n >= 1 && n <= 3)).toBe(true);
    expect(completions).toHaveLength(10);
  });

  it('reports completions that finish together in one call', async () => {
    const completions: Completion[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const handlers = new Map<string, JobHandler>([['together', async () => (await gate, { ok: true })]]);
    const api = fakeApi(Array.from({ length: 4 }, () => job('together')), (c) => completions.push(c));
    const { r, lifecycle } = runner(api, handlers, [], 4);
    const done = r.run();
    await until(() => api.calls.claims.length >= 1);
    release();
    await until(() => completions.length === 4);
    lifecycle.requestStop('test');
    expect(await done).toBe(0);
    expect(api.calls.batches.map((b) => b.length)).toEqual([4]);
    // Each completion carries its own job's lease token.
    expect(new Set(api.calls.batches[0].map((c) => c.job_id)).size).toBe(4);
    expect(api.calls.batches[0].every((c) => c.lease_token === c.job_id.replace('job_', 'lease-'))).toBe(true);
  });

  it('logs a lost lease per job and keeps going', async () => {
    const lines: string[] = [];
    const completions: Completion[] = [];
    const [kept, lost] = [job('ok'), job('ok')];
    const api = fakeApi([kept, lost], (c) => completions.push(c), undefined, (c) => (c.job_id === lost.id ? 'lease_lost' : 'completed'));
    const { r, lifecycle } = runner(api, new Map([['ok', async () => ({})]]), lines, 2);
    const done = r.run();
    await until(() => completions.length === 2);
    lifecycle.requestStop('test');
    expect(await done).toBe(0);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; job_id?: string });
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'job lease lost before completion; another attempt owns it now', job_id: lost.id }));
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'job completed', job_id: kept.id }));
  });

  it('on stop, claims no more and lets the running jobs finish and report within the grace period', async () => {
    const completions: Completion[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const api = fakeApi([job('held'), job('held')], (c) => completions.push(c));
    const { r, lifecycle } = runner(api, new Map([['held', async () => (await gate, { done: true })]]), [], 4);
    const done = r.run();
    await until(() => api.calls.claims.length >= 2);
    lifecycle.requestStop('test');
    release();
    expect(await done).toBe(0);
    expect(completions).toEqual([{ status: 'succeeded', result: { done: true } }, { status: 'succeeded', result: { done: true } }]);
    expect(api.calls.claims).toEqual([4, 2]);
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
