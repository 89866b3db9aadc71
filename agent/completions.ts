/**
 * Reports job completions in batches: a completion is sent at once when nothing is in flight; completions that finish
 * while a batch is on the wire (or in the same tick) go together in the next call (up to 50 per call). A transient
 * failure retries the whole batch: what the server already recorded answers `already_completed`, so a retry after a
 * lost response is safe.
 */
import { AgentApi, ApiError, ClaimedJob, Completion, CompletionResult, MAX_BATCH } from './api-client';
import { Lifecycle } from './lifecycle';
import { Logger } from './logger';
import { errorFields, isCredentialFailure } from './errors';
import { retryTransient } from './retry';

/** How long a completion is retried through transient failures before giving up (the lease decides after that). */
const COMPLETE_RETRY_BUDGET_MS = 5 * 60_000;

interface Pending {
  job: ClaimedJob;
  completion: Completion;
  durationMs: number;
  settled: () => void;
}

export class CompletionBatcher {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly api: AgentApi,
    private readonly lifecycle: Lifecycle,
    private readonly log: Logger,
    private readonly onCredentialFailure: (err: ApiError) => void,
  ) {}

  /** Queues the completion; resolves once it is reported (or given up, which is logged). Never rejects. */
  submit(job: ClaimedJob, completion: Completion, durationMs: number): Promise<void> {
    return new Promise((settled) => {
      this.queue.push({ job, completion, durationMs, settled });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      // Yield once so that jobs finishing in the same tick share the first call.
      await new Promise((r) => setImmediate(r));
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.send(batch);
        for (const p of batch) p.settled();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const { api, lifecycle, log } = this;
    let results: CompletionResult[];
    try {
      results = await retryTransient(() => api.complete(batch.map((p) => ({ job_id: p.job.id, lease_token: p.job.lease_token, ...p.completion })), lifecycle.abandon), {
        signal: lifecycle.abandon,
        budgetMs: COMPLETE_RETRY_BUDGET_MS,
        log,
        what: 'job completion',
      });
    } catch (err) {
      if (lifecycle.abandon.aborted) {
        for (const p of batch) log.warn('job completion abandoned at shutdown', { job_id: p.job.id });
      } else if (isCredentialFailure(err)) {
        this.onCredentialFailure(err);
      } else {
        for (const p of batch) log.error('job completion failed', { job_id: p.job.id, ...errorFields(err) });
      }
      return;
    }
    const outcomes = new Map(results.map((r) => [r.job_id, r.outcome]));
    for (const { job, completion, durationMs } of batch) {
      const outcome = outcomes.get(job.id);
      if (outcome === 'completed' || outcome === 'already_completed') {
        log[completion.status === 'succeeded' ? 'info' : 'warn']('job completed', { job_id: job.id, type: job.type, status: completion.status, error: completion.error, duration_ms: durationMs, batch: batch.length });
      } else if (outcome === 'lease_lost') {
        log.warn('job lease lost before completion; another attempt owns it now', { job_id: job.id });
      } else {
        log.error('job completion failed', { job_id: job.id, outcome: outcome ?? 'missing from the answer' });
      }
    }
  }
}

