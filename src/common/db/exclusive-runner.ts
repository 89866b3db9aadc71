import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Keys of the PostgreSQL advisory locks that make background work run on exactly one replica at a time. */
export const LOCKS = {
  auditSealer: 7_301_101,
  idempotencySweeper: 7_301_102,
  jobSweeper: 7_301_103,
  requestExpiry: 7_301_104,
} as const;

/**
 * Runs background work on one replica at a time: each tick takes a session advisory lock on its own connection with
 * `pg_try_advisory_lock` (never waits), runs, and unlocks. Ticks stop on shutdown and never overlap locally.
 */
@Injectable()
export class ExclusiveRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(ExclusiveRunner.name);
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Calls `work` every `intervalMs` while this replica holds lock `key`. */
  every(name: string, key: number, intervalMs: number, work: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      const run = this.runOnce(key, work)
        .catch((error: unknown) => this.logger.error({ err: error, task: name }, 'background task failed'))
        .finally(() => {
          busy = false;
          this.running.delete(run);
        });
      this.running.add(run);
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
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

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    await Promise.allSettled([...this.running]);
  }
}
