/**
 * The agent's main loop: a heartbeat every `heartbeatSeconds`, and a claim loop feeding a bounded pool of
 * `concurrency` workers. The loop claims `max_jobs = free workers` (long-polling while all are free or some are still
 * free), starts each job at once, and waits for a worker to free up when none is. A worker is free again once its job's
 * completion is reported, so the agent never holds more than `concurrency` leases; completions that finish together
 * are reported in one call (`CompletionBatcher`). Transient failures back off (1 s → 30 s, jitter, `Retry-After`
 * honoured); a rejected credential (401/403: revoked) stops the agent with a non-zero exit.
 */
import { AgentApi, ClaimedJob, Completion, isTransient, MAX_BATCH } from './api-client';
import { Backoff, sleep } from './backoff';
import { CompletionBatcher } from './completions';
import { errorFields, errorMessage, isCredentialFailure } from './errors';
import { JobContext, JobFailure, JobHandler } from './handlers/handler';
import { Lifecycle } from './lifecycle';
import { Logger } from './logger';
import { SecretProvider } from './providers/provider';
import { retryDelay } from './retry';
import { AGENT_VERSION } from './version';

export { errorFields, isCredentialFailure } from './errors';

export interface RunnerOptions {
  api: AgentApi;
  handlers: Map<string, JobHandler>;
  provider: SecretProvider;
  clusterName: string;
  capabilities: string[];
  waitSeconds: number;
  heartbeatSeconds: number;
  /** Jobs run at the same time (1–50): the most leases this agent holds. */
  concurrency: number;
  privateKeyRaw: Buffer;
  log: Logger;
  lifecycle: Lifecycle;
}

const MAX_ERROR_LENGTH = 4000;

export class AgentRunner {
  private ready = false;
  /** The jobs in the pool: each promise settles once its job ran and its completion was reported (never rejects). */
  private readonly running = new Set<Promise<void>>();
  /** Ids of the jobs in `running`: heartbeats extend only their leases (a lease from before a crash runs out). */
  private readonly runningJobIds = new Set<string>();
  private readonly completions: CompletionBatcher;
  private readonly concurrency: number;

  constructor(private readonly o: RunnerOptions) {
    this.concurrency = Math.min(Math.max(1, Math.floor(o.concurrency)), MAX_BATCH);
    this.completions = new CompletionBatcher(o.api, o.lifecycle, o.log, (err) => o.lifecycle.fail('the server rejected the agent secret (revoked?)', errorFields(err)));
  }

  /** Runs until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const heartbeats = this.heartbeatLoop();
    await this.claimLoop();
    // Jobs in flight finish (or are abandoned after the grace period) and report before the process exits.
    await Promise.all(this.running);
    await heartbeats;
    this.o.log.info('stopped', { agent_id: this.o.api.agentId, failed: this.o.lifecycle.failed });
    return this.o.lifecycle.failed ? 1 : 0;
  }

  private async heartbeatLoop(): Promise<void> {
    const { api, lifecycle, log } = this.o;
    while (!lifecycle.stopping.aborted) {
      try {
        await api.heartbeat({ version: AGENT_VERSION, capabilities: this.o.capabilities, running_job_ids: [...this.runningJobIds] }, lifecycle.stopping);
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
    const stopped = aborted(lifecycle.stopping);
    while (!lifecycle.stopping.aborted) {
      const free = this.concurrency - this.running.size;
      if (free === 0) {
        await Promise.race([...this.running, stopped]);
        continue;
      }
      let jobs: ClaimedJob[];
      try {
        jobs = await api.claim(free, this.o.waitSeconds, lifecycle.stopping);
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
      for (const job of jobs) this.start(job);
    }
  }

  private start(job: ClaimedJob): void {
    const worker: Promise<void> = this.runJob(job)
      .catch((err: unknown) => this.o.log.error('job failed unexpectedly', { job_id: job.id, ...errorFields(err) }))
      .finally(() => {
        this.running.delete(worker);
        this.runningJobIds.delete(job.id);
      });
    this.running.add(worker);
    this.runningJobIds.add(job.id);
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
    await this.completions.submit(job, completion, Date.now() - started);
  }
}

/** Settles when `signal` aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function truncate(s: string): string {
  return s.length > MAX_ERROR_LENGTH ? s.slice(0, MAX_ERROR_LENGTH - 1) + '…' : s;
}
