import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, Notification, Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';

/** Channel and notice prefix of the `countersign_principals_changed` triggers (migration 1764001100000). */
export const PRINCIPALS_CHANNEL = 'countersign_principals';
const NOTICE_PREFIX = `${PRINCIPALS_CHANNEL}:`;
const RECONNECT_MS = 1000;

/**
 * - `pending`: this process is writing a change for the tenant (seen before commit, on the writing connection);
 * - `committed`: a change for the tenant committed, on any replica (`'*'`: every tenant);
 * - `reset`: notifications may have been missed (the listener was down): forget everything.
 */
export type PrincipalChange = { kind: 'pending' | 'committed'; tenant: string } | { kind: 'reset' };
type Listener = (change: PrincipalChange) => void;

/**
 * Tells caches of resolved principals when to forget them. Writes that can revoke fire triggers that both NOTIFY every
 * replica at commit and RAISE a NOTICE on the writing connection before commit, which this process reads from every
 * pooled connection it hands out. `listening` is false while the LISTEN connection is down: caches must not serve
 * then, since a revocation could pass unseen.
 */
@Injectable()
export class PrincipalChanges implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PrincipalChanges.name);
  private readonly listeners = new Set<Listener>();
  private readonly hooked = new WeakSet<PoolClient>();
  private client?: Client;
  private closing = false;
  private reconnectTimer?: NodeJS.Timeout;
  private connected = false;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  get listening(): boolean {
    return this.connected;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onModuleInit(): Promise<void> {
    const pool = poolOf(this.dataSource);
    // Every checkout, so that connections opened before this hook (TypeORM's first one) are covered too.
    pool?.on('acquire', (client: PoolClient) => {
      if (this.hooked.has(client)) return;
      this.hooked.add(client);
      client.on('notice', (notice: { message?: string }) => {
        if (notice.message?.startsWith(NOTICE_PREFIX)) this.emit({ kind: 'pending', tenant: notice.message.slice(NOTICE_PREFIX.length) });
      });
    });
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.connected = false;
    await this.client?.end().catch(() => undefined);
  }

  private emit(change: PrincipalChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private async connect(): Promise<void> {
    const url = this.config.databaseUrl;
    if (!url) return;
    const client = new Client({ connectionString: url, application_name: 'countersign-principals-listener' });
    client.on('notification', (msg: Notification) => {
      if (msg.channel === PRINCIPALS_CHANNEL && msg.payload) this.emit({ kind: 'committed', tenant: msg.payload });
    });
    client.on('error', (error) => {
      if (this.closing) return;
      this.logger.warn({ err: error }, 'principal change listener lost its connection; principals are resolved uncached until it is back');
      this.down(client);
    });
    client.on('end', () => this.down(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${PRINCIPALS_CHANNEL}`);
      this.client = client;
      this.connected = true;
      // Whatever changed while nobody listened is unknown: start from nothing.
      this.emit({ kind: 'reset' });
    } catch (error) {
      if (!this.closing) this.logger.warn({ err: error }, 'principal change listener could not connect; retrying');
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private down(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.connected = false;
    this.emit({ kind: 'reset' });
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }
}

/** The pg Pool behind TypeORM's PostgreSQL driver (`master`), when there is one. */
function poolOf(dataSource: DataSource): Pool | undefined {
  const master: unknown = Reflect.get(dataSource.driver, 'master');
  return master instanceof Pool ? master : undefined;
}
