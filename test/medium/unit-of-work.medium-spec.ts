import { Global, Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { Client } from 'pg';
import { DatabaseModule } from '../../src/common/db/database.module';
import { MetricsService } from '../../src/common/observability/metrics.service';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/app-config';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';

/** Two writes through two "repositories" that only know the TransactionHost, as later services will do. */
@Injectable()
class LedgerService {
  constructor(private readonly tx: TransactionHost<TransactionalAdapterTypeOrm>) {}

  private insert(table: string, label: string) {
    return this.tx.tx.query(`INSERT INTO ${table} (label) VALUES ($1)`, [label]);
  }

  @Transactional()
  async recordBoth(label: string, failAfterFirst: boolean): Promise<void> {
    await this.insert('uow_rows', label);
    if (failAfterFirst) throw new Error('boom after the first write');
    await this.insert('uow_events', label);
  }
}

/** The app provides metrics globally (ObservabilityModule); the database module's background runner counts its runs. */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
class MetricsModule {}

describe('unit of work (nestjs-cls transactional on TypeORM)', () => {
  let db: TestDatabase;
  let moduleRef: TestingModule;
  let observer: Client;
  let service: LedgerService;
  let cls: ClsService;

  beforeAll(async () => {
    db = await createTestDatabase();
    observer = await db.client();
    await observer.query('CREATE TABLE uow_rows (label text NOT NULL)');
    await observer.query('CREATE TABLE uow_events (label text NOT NULL)');
    const config = loadConfig({ ...process.env, DATABASE_URL: db.url });
    moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), MetricsModule, DatabaseModule], providers: [LedgerService] }).compile();
    await moduleRef.init();
    service = moduleRef.get(LedgerService);
    cls = moduleRef.get(ClsService);
  });

  afterAll(async () => {
    await observer.end();
    await moduleRef.close();
    await db.drop();
  });

  const count = async (table: string, label: string) =>
    Number((await observer.query(`SELECT count(*) AS n FROM ${table} WHERE label = $1`, [label])).rows[0].n);

  it('commits every write of the unit together, visible to another connection', async () => {
    await cls.run(() => service.recordBoth('committed', false));
    expect(await count('uow_rows', 'committed')).toBe(1);
    expect(await count('uow_events', 'committed')).toBe(1);
  });

  it('rolls back the first write when the unit fails after it', async () => {
    await expect(cls.run(() => service.recordBoth('rolled-back', true))).rejects.toThrow('boom after the first write');
    expect(await count('uow_rows', 'rolled-back')).toBe(0);
    expect(await count('uow_events', 'rolled-back')).toBe(0);
  });
});
