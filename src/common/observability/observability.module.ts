import { Global, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from './metrics.service';
import { PinoNestLogger } from './nest-logger';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Logging (Nest's logger on the root pino logger; the access log is common/http's middleware), metrics, lifecycle. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(rootLogger: Logger) {
    return {
      module: ObservabilityModule,
      providers: [MetricsService, LifecycleService, { provide: ROOT_LOGGER, useValue: rootLogger }, { provide: PinoNestLogger, useValue: new PinoNestLogger(rootLogger) }],
      exports: [MetricsService, LifecycleService, ROOT_LOGGER, PinoNestLogger],
    };
  }
}
