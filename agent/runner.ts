/**
 * The agent's main loop: a heartbeat every `heartbeatSeconds`, and a claim loop that long-polls for a job, runs its
 * handler and reports the completion. Transient failures back off (1 s → 30 s, jitter, `Retry-After` honoured);
 * a rejected credential (401/403: revoked) stops the agent with a non-zero exit.
 */
import { AgentApi, ApiError, ClaimedJob, Completion, isTransient } from './api-client';
import { Backoff, sleep } from './backoff';
import { JobContext, JobFailure, JobHandler } from './handlers/handler';
import { Lifecycle } from './lifecycle';
import { Logger } from './logger';
import { SecretProvider } from './providers/provider';
import { retryDelay, retryTransient } from './retry';
import { AGENT_VERSION } from './version';

export interface RunnerOptions {
  api: AgentApi;
  handlers: Map<string, JobHandler>;
  provider: SecretProvider;
  clusterName: string;
  capabilities: string[];
  waitSeconds: number;
  heartbeatSeconds: number;
  privateKeyRaw: Buffer;
  log: Logger;
  lifecycle: Lifecycle;
}

const MAX_ERROR_LENGTH = 4000;
/** How long a completion is retried through transient failures before giving up (the lease decides after that). */
const COMPLETE_RETRY_BUDGET_MS = 5 * 60_000;

/** 401 (unknown or revoked secret) and 403 (the secret is not this agent's) can't get better by retrying. */
export function isCredentialFailure(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

export class AgentRunner {
  private ready = false;

  constructor(private readonly o: RunnerOptions) {}

  /** Runs until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const heartbeats = this.heartbeatLoop();
    await this.claimLoop();
    await heartbeats;
    this.o.log.info('stopped', { agent_id: this.o.api.agentId, failed: this.o.lifecycle.failed });
    return this.o.lifecycle.failed ? 1 : 0;
  }

  private async heartbeatLoop(): Promise<void> {
    const { api, lifecycle, log } = this.o;
    while (!lifecycle.stopping.aborted) {
      try {
        await api.heartbeat({ version: AGENT_VERSION, capabilities: this.o.capabilities }, lifecycle.stopping);
        if (!this.ready) {
          this.ready = true;
          log.info('agent ready', { agent_id: api.agentId, capabilities: this.o.capabilities, cluster_name: this.o.clusterName });
        }
      } catch (err) {
        if (lifecycle.stopping.aborted) break;
        if (isCredentialFailure(err)) return lifecycle.fail('the server rejected the agent secret (revoked?)', errorFields(err));
        log.warn('heartbeat failed', errorFields(err));
      }
      await sleep(this.o.heartbeatSeconds * 1000, lifecycle.stopping);
    }
  }

  private async claimLoop(): Promise<void> {
    const { api, lifecycle, log } = this.o;
    const backoff = new Backoff();
    while (!lifecycle.stopping.aborted) {
      let job: ClaimedJob | null;
      try {
        job = await api.claim(this.o.waitSeconds, lifecycle.stopping);
        backoff.reset();
      } catch (err) {
        if (lifecycle.stopping.aborted) break;
        if (isCredentialFailure(err)) return lifecycle.fail('the server rejected the agent secret (revoked?)', errorFields(err));
        const delay = retryDelay(err, backoff);
        // A non-transient 4xx here is a bug on one side or the other; back off all the same instead of spinning.
        log[isTransient(err) ? 'warn' : 'error']('claim failed', { ...errorFields(err), retry_in_ms: delay });
        await sleep(delay, lifecycle.stopping);
        continue;
      }
      if (job) await this.runJob(job);
    }
  }

  private async runJob(job: ClaimedJob): Promise<void> {
    const { lifecycle, log } = this.o;
    const started = Date.now();
    log.info('job claimed', { job_id: job.id, type: job.type, attempt: job.attempt, request_id: job.request_id });
    const handler = this.o.handlers.get(job.type);
    let completion: Completion;
    if (!handler) {
      completion = { status: 'failed', error: `Unsupported job type "${job.type}": this agent handles ${[...this.o.handlers.keys()].join(', ') || 'nothing'}.` };
    } else {
      const ctx: JobContext = { api: this.o.api, provider: this.o.provider, clusterName: this.o.clusterName, log, signal: lifecycle.abandon, privateKeyRaw: this.o.privateKeyRaw };
      try {
        const result = await handler(job, ctx);
        completion = { status: 'succeeded', result };
      } catch (err) {
        if (lifecycle.abandon.aborted) {
          log.warn('job abandoned at shutdown; the server will queue it again when its lease runs out', { job_id: job.id });
          return;
        }
        if (isCredentialFailure(err)) return lifecycle.fail('the server rejected the agent secret (revoked?)', errorFields(err));
        completion = { status: 'failed', error: truncate(errorMessage(err)), ...(err instanceof JobFailure && err.result ? { result: err.result } : {}) };
      }
    }
    await this.complete(job, completion, Date.now() - started);
  }

  private async complete(job: ClaimedJob, completion: Completion, durationMs: number): Promise<void> {
    const { api, lifecycle, log } = this.o;
    try {
      await retryTransient(() => api.complete(job.id, job.lease_token, completion, lifecycle.abandon), {
        signal: lifecycle.abandon,
        budgetMs: COMPLETE_RETRY_BUDGET_MS,
        log,
        what: 'job completion',
      });
      log[completion.status === 'succeeded' ? 'info' : 'warn']('job completed', { job_id: job.id, type: job.type, status: completion.status, error: completion.error, duration_ms: durationMs });
    } catch (err) {
      if (lifecycle.abandon.aborted) {
        log.warn('job completion abandoned at shutdown', { job_id: job.id });
      } else if (isCredentialFailure(err)) {
        lifecycle.fail('the server rejected the agent secret (revoked?)', errorFields(err));
      } else if (err instanceof ApiError && err.code === 'LEASE_LOST') {
        log.warn('job lease lost before completion; another attempt owns it now', { job_id: job.id });
      } else {
        log.error('job completion failed', { job_id: job.id, ...errorFields(err) });
      }
    }
  }
}

export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof ApiError) return { error: err.message, status: err.status, code: err.code, server_request_id: err.requestId };
  return { error: errorMessage(err) };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function truncate(s: string): string {
  return s.length > MAX_ERROR_LENGTH ? s.slice(0, MAX_ERROR_LENGTH - 1) + '…' : s;
}
