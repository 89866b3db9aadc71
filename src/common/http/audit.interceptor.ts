import { CallHandler, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { from, lastValueFrom, Observable } from 'rxjs';
import { AuditAction } from '../audit/audit-actions';
import { AUDIT_SINK, AuditSink } from '../audit/audit.types';
import { AUDITED, AuditedMetadata } from '../audit/audited.decorator';
import { RequestContextStore } from '../context/request-context';
import { HttpRequest } from './http-types';
import { RouteScopedInterceptor } from './route-scoped-interceptors';
import { routeTemplate } from './route-template';

/** `workspace.created` → `workspace`; `agent_enrollment_token.created` → `agent_enrollment_token`. */
export const resourceTypeOf = (action: AuditAction): string => action.slice(0, action.indexOf('.'));

/** The id the event is about: the created object's id, else the route's `:id`. */
export function resourceIdOf(result: unknown, params: Record<string, string | string[] | undefined>): string | null {
  const id = result !== null && typeof result === 'object' ? (result as { id?: unknown }).id : undefined;
  if (typeof id === 'string') return id;
  return typeof params.id === 'string' ? params.id : null;
}

/**
 * The audit guarantee of every mutation route (`@Audited(action)`): the handler runs in one transaction, and unless
 * the service recorded the route's action in it (services write domain events with their payloads, and events a
 * route cannot know, such as `job.created` beside `request.approved`), this writes the action from the route's
 * metadata and result, in the same transaction. A failing handler rolls back with no event. Routes exempt with a
 * reason (`@AuditExempt`) and reads pass straight through; a read that records its call (`@AuditedRead`) runs without a
 * transaction, its event written by one INSERT. Start-up refuses a mutation route with neither
 * (`RouteAccessInventory`).
 */
@Injectable()
export class AuditInterceptor implements RouteScopedInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService<RequestContextStore>,
    @Inject(AUDIT_SINK) private readonly sink: AuditSink,
  ) {}

  /** Only routes declaring `@Audited(action)` (decided once per route at start-up). */
  appliesTo(handler: (...args: never[]) => unknown): boolean {
    return this.reflector.get<AuditedMetadata | undefined>(AUDITED, handler)?.kind === 'action';
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const metadata = this.reflector.get<AuditedMetadata | undefined>(AUDITED, context.getHandler());
    if (metadata?.kind !== 'action') return next.handle();
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const run = async () => {
      const recorded = new Set<string>();
      this.cls.set('auditedActions', recorded);
      const result: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
      if (!metadata.actions.some((a) => recorded.has(a))) {
        const [action] = metadata.actions;
        await this.sink.record({ action, resourceType: resourceTypeOf(action), resourceId: resourceIdOf(result, req.params ?? {}), payload: { route: `${req.method} ${routeTemplate(req)}` } });
      }
      return result;
    };
    // A read whose only write is its audit event (@AuditedRead) needs no transaction: the event is one INSERT.
    return from(metadata.auditOnly ? run() : this.txHost.withTransaction(Propagation.Required, run));
  }
}
