import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, IsString, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiEnum, ApiInteger, valuesOf } from '../../../common/api/api-schema';
import { ActorType } from '../../../common/audit/audit.types';

export const ACTOR_TYPES = valuesOf<ActorType>()(['user', 'api_key', 'agent', 'system', 'anonymous']);
export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export class AuditFilterQueryDto extends PaginationQueryDto {
  /** Actor id or label (email, key name, agent name). */
  @IsOptional() @IsString() @MaxLength(254)
  actor?: string;

  /** e.g. `role.assigned`. */
  @IsOptional() @IsString() @MaxLength(100)
  action?: string;

  @IsOptional() @IsString() @MaxLength(100)
  resource_type?: string;

  @IsOptional() @IsString() @MaxLength(128)
  resource_id?: string;

  @IsOptional() @IsString() @MaxLength(128)
  correlation_id?: string;

  @IsOptional() @IsString() @MaxLength(128)
  request_id?: string;

  /** RFC 3339; events at or after. */
  @IsOptional() @Type(() => Date) @IsDate()
  @ApiProperty({ type: String, format: 'date-time', required: false })
  since?: Date;

  /** RFC 3339; events before. */
  @IsOptional() @Type(() => Date) @IsDate()
  @ApiProperty({ type: String, format: 'date-time', required: false })
  until?: Date;
}

export class AuditActorDto {
  @ApiEnum(ACTOR_TYPES, 'AuditActorType')
  type: ActorType;
  @ApiProperty({ type: String, nullable: true })
  id: string | null;
  @ApiProperty({ type: String, nullable: true })
  label: string | null;
}

export class AuditEventDto {
  @ApiProperty({ example: 'aud_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  @ApiDateTime()
  occurred_at: string;
  @ApiProperty({ type: String, nullable: true })
  tenant_id: string | null;
  actor: AuditActorDto;
  @ApiProperty({ example: 'request.approved' })
  action: string;
  resource_type: string;
  @ApiProperty({ type: String, nullable: true })
  resource_id: string | null;
  @ApiEnum(AUDIT_OUTCOMES, 'AuditOutcome')
  outcome: AuditOutcome;
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  correlation_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  ip: string | null;
  @ApiProperty({ type: String, nullable: true })
  user_agent: string | null;
  /** Redacted: no secret, token, password or value. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: Record<string, unknown>;
}

export class AuditVerificationDto {
  /** True when every sealed event of your tenant's chain and the latest signed checkpoint match. */
  verified: boolean;
  /** Events checked. */
  @ApiInteger()
  checked: number;
  /** The first event whose seal does not match (edited, deleted or reordered), or null. */
  @ApiProperty({ type: String, nullable: true })
  first_invalid_id: string | null;
  /** Events of your tenant not yet chained by the sealer (normally only the last second's): not covered by `verified`. */
  @ApiInteger()
  unsealed: number;
  /** When the oldest unsealed event occurred, or null when every event is sealed. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  oldest_unsealed_at: string | null;
}

export class AuditCheckpointDto {
  chain: string;
  /** Number of events sealed in the chain up to this checkpoint. */
  @ApiInteger()
  seq: number;
  last_event_id: string;
  hash: string;
  /** Ed25519 over `countersign-audit-v1|<chain>|<seq>|<last_event_id>|<hash>`, base64. */
  signature: string;
  /** The key that signed it (one of `keys`); null for checkpoints signed before key ids were recorded (try each key). */
  @ApiProperty({ type: String, nullable: true })
  key_id: string | null;
  @ApiDateTime()
  created_at: string;
}

export class AuditPublicKeyDto {
  /** First 16 hex digits of SHA-256 over the raw public key. */
  key_id: string;
  /** Raw 32-byte Ed25519 public key, base64. */
  public_key: string;
  public_key_pem: string;
}

export class AuditCheckpointPageDto {
  @ApiProperty({ enum: ['Ed25519'] })
  algorithm: 'Ed25519';
  /** The key that signs new checkpoints. */
  key_id: string;
  /** Raw 32-byte Ed25519 public key of the signing key, base64. */
  public_key: string;
  public_key_pem: string;
  /** Every key whose checkpoints still verify: the signing key first, then previous keys during a rotation. */
  @ApiProperty({ type: [AuditPublicKeyDto] })
  keys: AuditPublicKeyDto[];
  @ApiProperty({ type: [AuditCheckpointDto] })
  data: AuditCheckpointDto[];
  @ApiProperty({ type: 'object', properties: { limit: { type: 'integer' }, next_cursor: { type: 'string', nullable: true }, has_more: { type: 'boolean' } } })
  pagination: { limit: number; next_cursor: string | null; has_more: boolean };
}
