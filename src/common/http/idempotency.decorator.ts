import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IDEMPOTENCY_EXEMPT = 'countersign:idempotency-exempt';
export const REVEALS_SECRET = 'countersign:reveals-secret';
/** OpenAPI extension marking operations that ignore `Idempotency-Key`. */
export const IDEMPOTENCY_EXTENSION = 'x-idempotency';

/** The route issues fresh credentials (login, refresh, setup, invitation acceptance, enrollment): the header is ignored. */
export const IdempotencyExempt = () => applyDecorators(SetMetadata(IDEMPOTENCY_EXEMPT, true), ApiExtension(IDEMPOTENCY_EXTENSION, 'ignored'));

/**
 * The response shows a one-time secret: only the created object's id is kept, and a retry with the same key gets
 * 409 IDEMPOTENCY_REPLAY_UNAVAILABLE naming it, instead of a second secret or a replayed one.
 */
export const RevealsSecret = () => SetMetadata(REVEALS_SECRET, true);
