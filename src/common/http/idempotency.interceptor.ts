import { CallHandler, ExecutionContext, HttpStatus, Injectable, OnApplicationBootstrap, RequestMethod, Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, Observable } from 'rxjs';
import { AppConfig } from '../../config/app-config';
import { Principal } from '../auth/principal';
import { canonicalJson } from '../crypto/canonical-json';
import { ExclusiveRunner, LOCKS } from '../db/exclusive-runner';
import { IdempotencyRecord, IdempotencyRepository } from '../db/idempotency.repository';
import { AppError, RawHttpResponse, ValidationFailedError } from '../errors/app-error';
import { HttpRequest, requestPath } from './http-types';
import { IDEMPOTENCY_EXEMPT, REVEALS_SECRET } from './idempotency.decorator';
import { RouteScopedInterceptor } from './route-scoped-interceptors';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Route methods that can mutate (`ALL` included: it answers POST too). */
const MUTATING_ROUTE_METHODS = new Set([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH, RequestMethod.DELETE, RequestMethod.ALL]);
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Outcomes that are never stored: the caller may fix the request and retry with the same key. */
const NOT_STORED = new Set([400, 401, 403, 429]);
const JSON_TYPE = 'application/json; charset=utf-8';

export class IdempotencyKeyInUseError extends AppError {
  constructor() {
    super(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still in progress; retry shortly.', null, { 'Retry-After': '1' });
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request (method, path or body).');
  }
}

export class IdempotencyReplayUnavailableError extends AppError {
  constructor(resourceId: string | null) {
    super(409, 'IDEMPOTENCY_REPLAY_UNAVAILABLE', 'The first response showed a one-time secret and is not kept; find (and revoke if needed) the object it made.', [
      { resource_id: resourceId },
    ]);
  }
}

/**
 * SPEC §1 idempotency for every POST, PUT, PATCH and DELETE. With an `Idempotency-Key`, the handler runs in one
 * transaction that first takes a transaction-scoped advisory lock on (principal, key) — a concurrent duplicate on any
 * replica gets 409 at once — then stores the outcome in the same transaction as the handler's rows and audit event.
 * A crash leaves neither, so the key can be retried. Replays are byte for byte, marked `X-Idempotency-Replayed: true`.
 */
@Injectable()
export class IdempotencyInterceptor implements RouteScopedInterceptor, OnApplicationBootstrap {
  constructor(
    private readonly reflector: Reflector,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly repo: IdempotencyRepository,
    private readonly config: AppConfig,
    private readonly runner: ExclusiveRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.runner.every('idempotency-sweeper', LOCKS.idempotencySweeper, this.config.idempotencyPurgeIntervalMs, async () => {
      await this.repo.purgeExpired();
    });
  }

  /** Only mutation routes that are not exempt ever need it (decided once per route at start-up). */
  appliesTo(handler: (...args: never[]) => unknown, controller: Type): boolean {
    const method = this.reflector.get<RequestMethod | undefined>(METHOD_METADATA, handler);
    if (method === undefined || !MUTATING_ROUTE_METHODS.has(method)) return false;
    return !this.reflector.getAllAndOverride<boolean>(IDEMPOTENCY_EXEMPT, [handler, controller]);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<HttpRequest & { principal?: Principal }>();
    const header = req.headers['idempotency-key'];
    if (!MUTATING.has(req.method) || header === undefined) return next.handle();
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IDEMPOTENCY_EXEMPT, targets)) return next.handle();

    const key = Array.isArray(header) ? header[0] : header;
    if (!KEY_PATTERN.test(key)) throw new ValidationFailedError([{ field: 'Idempotency-Key', issue: 'must be 1–255 visible ASCII characters' }]);
    // Users are global: the tenant is part of the scope so a key never crosses tenants.
    const scope = req.principal ? `${req.principal.tenantId}:${req.principal.type}:${req.principal.id}` : 'anonymous';
    const fingerprint = createHash('sha256').update(`${req.method} ${requestPath(req)} ${canonicalJson(req.body ?? null)}`).digest('hex');
    const revealsSecret = !!this.reflector.getAllAndOverride<boolean>(REVEALS_SECRET, targets);
    return from(this.run(context, next, { scope, key, fingerprint, revealsSecret }));
  }

  private async run(context: ExecutionContext, next: CallHandler, k: { scope: string; key: string; fingerprint: string; revealsSecret: boolean }): Promise<unknown> {
    const expiresAt = () => new Date(Date.now() + this.config.idempotencyTtlSeconds * 1000);
    try {
      return await this.txHost.withTransaction(Propagation.Required, async () => {
        if (!(await this.repo.tryLock(k.scope, k.key))) throw new IdempotencyKeyInUseError();
        const existing = await this.repo.find(k.scope, k.key);
        if (existing) throw this.replay(existing, k.fingerprint);
        const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
        const status = this.successStatus(context);
        const resourceId = (body as { id?: unknown } | undefined)?.id;
        await this.repo.save({
          scope: k.scope,
          key: k.key,
          fingerprint: k.fingerprint,
          status_code: status,
          headers: { 'Content-Type': JSON_TYPE },
          body: k.revealsSecret || body === undefined ? null : JSON.stringify(body),
          resource_id: typeof resourceId === 'string' ? resourceId : null,
          expires_at: expiresAt(),
        });
        return body;
      });
    } catch (error) {
      if (error instanceof AppError && !NOT_STORED.has(error.status) && error.status < 500 && !this.isOwn(error)) {
        // A completed error outcome (404, 409, 422…) is part of the contract too; stored after the rollback.
        const req = context.switchToHttp().getRequest<HttpRequest>();
        const envelope = JSON.stringify({ error: { code: error.code, message: error.message, details: error.details, request_id: req.id } });
        await this.txHost.withTransaction(Propagation.RequiresNew, async () => {
          await this.repo.save({
            scope: k.scope,
            key: k.key,
            fingerprint: k.fingerprint,
            status_code: error.status,
            headers: { 'Content-Type': JSON_TYPE, ...error.headers },
            body: envelope,
            resource_id: null,
            expires_at: expiresAt(),
          });
        });
      }
      throw error;
    }
  }

  private isOwn(error: AppError): boolean {
    return error instanceof IdempotencyKeyInUseError || error instanceof IdempotencyKeyReusedError || error instanceof IdempotencyReplayUnavailableError;
  }

  private replay(record: IdempotencyRecord, fingerprint: string): Error {
    if (record.fingerprint !== fingerprint) return new IdempotencyKeyReusedError();
    if (record.body === null && record.status_code !== HttpStatus.NO_CONTENT) return new IdempotencyReplayUnavailableError(record.resource_id);
    return new RawHttpResponse(record.status_code, record.body ?? '', { ...record.headers, 'X-Idempotency-Replayed': 'true' });
  }

  private successStatus(context: ExecutionContext): number {
    const explicit = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler());
    if (explicit) return explicit;
    return this.reflector.get<RequestMethod>(METHOD_METADATA, context.getHandler()) === RequestMethod.POST ? HttpStatus.CREATED : HttpStatus.OK;
  }
}
