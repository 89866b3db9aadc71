import { Global, Module } from '@nestjs/common';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { AppConfig } from '../../config/app-config';
import { required } from '../errors/invariant';
import { buildDataSourceOptions } from './data-source-options';
import { ExclusiveRunner } from './exclusive-runner';
import { PrincipalChanges } from './principal-changes';

/**
 * PostgreSQL through TypeORM, and the unit of work: nestjs-cls holds the request context and, through the
 * transactional plugin, the open transaction, which every repository picks up via `TransactionHost`.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // main.ts sets it (from DATABASE_URL or the embedded server it started) before the app is built.
        ...buildDataSourceOptions(required(config.databaseUrl, 'databaseUrl'), config.databasePoolSize, config.dbStatementTimeoutMs, config.dbConnectTimeoutMs),
        autoLoadEntities: true,
        retryAttempts: 0,
      }),
    }),
    ClsModule.forRoot({
      global: true,
      // The request context is opened by common/http's request-context middleware (one synchronous step).
      plugins: [
        new ClsPluginTransactional({
          imports: [TypeOrmModule],
          adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
          enableTransactionProxy: false,
        }),
      ],
    }),
  ],
  providers: [ExclusiveRunner, PrincipalChanges],
  exports: [ExclusiveRunner, PrincipalChanges],
})
export class DatabaseModule {}
