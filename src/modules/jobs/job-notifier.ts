import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../../config/app-config';
import { JOBS_CHANNEL } from './jobs.repository';

type Waiter = () => void;

/**
 * One LISTEN connection per process: a commit that enqueues (or requeues) a job notifies the tenant's channel payload,
 * and every claimer long-polling for that tenant on this replica tries again. No busy loop; a claimer otherwise sleeps
 * until its wait ends.
 */
@Injectable()
export class JobNotifier implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobNotifier.name);
  private readonly waiters = new Map<string, Set<Waiter>>();
  private client?: Client;
  private closing = false;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    for (const set of this.waiters.values()) for (const wake of set) wake();
    await this.client?.end().catch(() => undefined);
  }

  /** Resolves when a job is announced for the tenant or after `ms`. */
  wait(tenantId: string, ms: number, abort?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(tenantId) ?? new Set<Waiter>();
      this.waiters.set(tenantId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(tenantId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      abort?.addEventListener('abort', done, { once: true });
    });
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  private wake(tenantId: string): void {
    for (const wake of [...(this.waiters.get(tenantId) ?? [])]) wake();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'countersign-listener' });
    client.on('notification', (msg) => {
      if (msg.channel === JOBS_CHANNEL && msg.payload) this.wake(msg.payload);
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'job listener connection lost; reconnecting');
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${JOBS_CHANNEL}`);
      this.client = client;
      // Anything announced while disconnected: let every waiter look again.
      for (const tenantId of this.waiters.keys()) this.wake(tenantId);
    } catch (error) {
      this.logger.warn({ err: error }, 'job listener could not connect; retrying');
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    this.client = undefined;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, 1000);
    this.reconnectTimer.unref();
  }
}
