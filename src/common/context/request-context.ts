import { ClsServiceManager, ClsStore } from 'nestjs-cls';
import { Principal } from '../auth/principal';

/** What every request carries through its async calls (nestjs-cls): logs, errors, audit events and jobs read it. */
export interface RequestContextStore extends ClsStore {
  requestId: string;
  correlationId: string;
  ip?: string;
  userAgent?: string;
  /** Set by the auth guard once the caller is known. */
  principal?: Principal;
  /**
   * Audit actions recorded in the current mutation's transaction, set by the audit interceptor: it writes the route's
   * declared event only when the service has not recorded it already.
   */
  auditedActions?: Set<string>;
}

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/** The accepted value of an `X-Request-ID` / `X-Correlation-Id` header, or undefined when absent or malformed. */
export function acceptedId(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID_PATTERN.test(value) ? value : undefined;
}

/**
 * The request and correlation ids of the request this code runs for, or nothing outside a request: the root logger's
 * mixin, so that any line logged while serving a request carries them without a child logger per request.
 */
export function requestLogBindings(): Record<string, unknown> {
  const cls = ClsServiceManager.getClsService<RequestContextStore>();
  if (!cls.isActive()) return {};
  const requestId = cls.get('requestId');
  return requestId === undefined ? {} : { request_id: requestId, correlation_id: cls.get('correlationId') };
}
