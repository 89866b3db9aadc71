import { SetMetadata } from '@nestjs/common';

export const IDEMPOTENCY_EXEMPT = 'countersign:idempotency-exempt';
export const REVEALS_SECRET = 'countersign:reveals-secret';

/** The route issues fresh credentials (login, refresh, setup, invitation acceptance, enrollment): the header is ignored. */
export const IdempotencyExempt = () => SetMetadata(IDEMPOTENCY_EXEMPT, true);

/**
 * The response shows a one-time secret: only the created object's id is kept, and a retry with the same key gets
 * 409 IDEMPOTENCY_REPLAY_UNAVAILABLE naming it, instead of a second secret or a replayed one.
 */
export const RevealsSecret = () => SetMetadata(REVEALS_SECRET, true);
