import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Logger } from 'pino';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from './metrics.service';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Logging (nestjs-pino over the root logger whose HTTP middleware common/http installs), metrics, lifecycle. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(rootLogger: Logger) {
    return {
      module: ObservabilityModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger: rootLogger }, useExisting: true })],
      providers: [MetricsService, LifecycleService, { provide: ROOT_LOGGER, useValue: rootLogger }],
      exports: [MetricsService, LifecycleService, ROOT_LOGGER],
    };
  }
}
