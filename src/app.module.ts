import { DynamicModule, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { DatabaseModule } from './common/db/database.module';
import { ObservabilityModule } from './common/observability/observability.module';
import { RedisModule } from './common/redis/redis.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './modules/health/health.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, rootLogger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(rootLogger), DatabaseModule, RedisModule, HealthModule],
    };
  }
}
