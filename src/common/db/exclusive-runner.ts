import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MetricsService } from '../observability/metrics.service';

/** Keys of the PostgreSQL advisory locks that make background work run on exactly one replica at a time. */
export const LOCKS = {
  auditSealer: 7_301_101,
  idempotencySweeper: 7_301_102,
  jobSweeper: 7_301_103,
  requestExpiry: 7_301_104,
  /** Transaction-scoped: serialises writers of the audit chain (the sealer, and any direct caller such as a test). */
  auditChainWrite: 7_301_105,
  agentOfflineNotifier: 7_301_106,
} as const;

/** A failing task retries sooner than this, but logs the same failure again only once per period. */
const MAX_BACKOFF_MS = 60_000;

export type BackgroundTaskStatus = 'ok' | 'failing' | 'standby' | 'pending';

/** What one replica knows about one of its background tasks (served in `/api/v1/health`). */
export interface BackgroundTaskState {
  task: string;
  status: BackgroundTaskStatus;
  interval_ms: number;
  last_run_at: string | null;
  last_success_at: string | null;
  consecutive_failures: number;
  /** Work the task has not caught up with yet (e.g. unsealed audit events), where the task reports one. */
  backlog: number | null;
}

interface TaskEntry {
  name: string;
  intervalMs: number;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  lastOutcome: 'success' | 'failure' | 'skipped' | null;
  lastError: string | null;
  consecutiveFailures: number;
  lastLoggedAt: number;
  suppressed: number;
  backlog: number | null;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Runs background work on one replica at a time: each tick takes a session advisory lock on its own connection with
 * `pg_try_advisory_lock` (never waits), runs, and unlocks. Ticks never overlap locally and stop on shutdown.
 * Each run is counted (`countersign_background_task_runs_total{task,outcome}`); a failing task backs off
 * exponentially (up to a minute) and logs an identical failure once per back-off period, not once per tick.
 */
@Injectable()
export class ExclusiveRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(ExclusiveRunner.name);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly tasks = new Map<string, TaskEntry>();
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Calls `work` every `intervalMs` while this replica holds lock `key`; with `key` null on every replica (work that
   * replicas share by claiming rows, e.g. the webhook dispatcher), still counted, backed off and shown in health.
   */
  every(name: string, key: number | null, intervalMs: number, work: () => Promise<void>): void {
    const entry: TaskEntry = {
      name,
      intervalMs,
      lastRunAt: null,
      lastSuccessAt: null,
      lastOutcome: null,
      lastError: null,
      consecutiveFailures: 0,
      lastLoggedAt: 0,
      suppressed: 0,
      backlog: null,
    };
    this.tasks.set(name, entry);
    const schedule = (delayMs: number) => {
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopped) return;
        const run = this.tick(entry, key, work).finally(() => {
          this.running.delete(run);
          schedule(this.nextDelay(entry));
        });
        this.running.add(run);
      }, delayMs);
      timer.unref();
      this.timers.add(timer);
    };
    schedule(intervalMs);
  }

  /** Runs `work` once if lock `key` is free; returns false when another replica holds it. */
  async runOnce(key: number, work: () => Promise<void>): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key])) as { locked: boolean }[];
      if (!locked) return false;
      try {
        await work();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [key]);
      }
      return true;
    } finally {
      await runner.release();
    }
  }

  /** The state of every task registered on this replica. */
  states(): BackgroundTaskState[] {
    return [...this.tasks.values()].map((t) => ({
      task: t.name,
      status: t.lastOutcome === null ? 'pending' : t.lastOutcome === 'failure' ? 'failing' : t.lastOutcome === 'skipped' ? 'standby' : 'ok',
      interval_ms: t.intervalMs,
      last_run_at: t.lastRunAt?.toISOString() ?? null,
      last_success_at: t.lastSuccessAt?.toISOString() ?? null,
      consecutive_failures: t.consecutiveFailures,
      backlog: t.backlog,
    }));
  }

  /** A task tells how far behind it is (shown with its state). */
  reportBacklog(name: string, backlog: number): void {
    const entry = this.tasks.get(name);
    if (entry) entry.backlog = backlog;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private async tick(entry: TaskEntry, key: number | null, work: () => Promise<void>): Promise<void> {
    entry.lastRunAt = new Date();
    try {
      const ran = key === null ? await work().then(() => true) : await this.runOnce(key, work);
      this.recordSuccess(entry, ran);
    } catch (error) {
      this.recordFailure(entry, error);
    }
  }

  private recordSuccess(entry: TaskEntry, ran: boolean): void {
    const outcome = ran ? 'success' : 'skipped';
    this.metrics.backgroundRuns.inc({ task: entry.name, outcome });
    if (entry.consecutiveFailures > 0) {
      this.logger.log({ task: entry.name, failures: entry.consecutiveFailures }, 'background task recovered');
    }
    entry.lastOutcome = outcome;
    entry.consecutiveFailures = 0;
    entry.suppressed = 0;
    entry.lastLoggedAt = 0;
    if (ran) entry.lastSuccessAt = new Date();
  }

  private recordFailure(entry: TaskEntry, error: unknown): void {
    this.metrics.backgroundRuns.inc({ task: entry.name, outcome: 'failure' });
    const message = errorText(error);
    const now = Date.now();
    const repeated = entry.lastOutcome === 'failure' && entry.lastError === message;
    entry.lastOutcome = 'failure';
    entry.lastError = message;
    entry.consecutiveFailures++;
    if (repeated && now - entry.lastLoggedAt < MAX_BACKOFF_MS) {
      entry.suppressed++;
      return;
    }
    this.logger.error({ err: error, task: entry.name, consecutive_failures: entry.consecutiveFailures, suppressed_repeats: entry.suppressed }, 'background task failed');
    entry.lastLoggedAt = now;
    entry.suppressed = 0;
  }

  private nextDelay(entry: TaskEntry): number {
    if (entry.consecutiveFailures === 0) return entry.intervalMs;
    const backoff = entry.intervalMs * 2 ** Math.min(entry.consecutiveFailures, 16);
    return Math.min(Math.max(entry.intervalMs, MAX_BACKOFF_MS), backoff);
  }
}
