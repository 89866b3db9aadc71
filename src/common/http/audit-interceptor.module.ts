import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditInterceptor } from './audit.interceptor';

/** Registers the audit interceptor for every route; the sink (`AUDIT_SINK`) is the global audit module's. */
@Module({
  providers: [{ provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
})
export class AuditInterceptorModule {}
