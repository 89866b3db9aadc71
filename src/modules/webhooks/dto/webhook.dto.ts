import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_EVENTS } from '../webhook-events';
import { ApiDateTime, ApiEnum, ApiInteger } from '../../../common/api/api-schema';

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const EVENTS_DOC = `Exact event names or a family wildcard ("request.*"): ${WEBHOOK_EVENTS.join(', ')}.`;

export class CreateWebhookDto {
  /** https (http and private addresses only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true). */
  @IsString() @MaxLength(2048)
  @ApiProperty({ format: 'uri', example: 'https://hooks.example.com/countersign' })
  url: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @IsString({ each: true })
  @ApiProperty({ type: [String], description: EVENTS_DOC, example: ['request.*'] })
  events: string[];

  @IsOptional() @IsString() @MaxLength(500)
  @ApiProperty({ example: 'Ops channel' })
  description?: string;

  /** `json` (default): the event payload; `slack`: a Slack incoming-webhook message. */
  @IsOptional() @IsIn(WEBHOOK_FORMATS)
  @ApiEnum(WEBHOOK_FORMATS, 'WebhookFormat', { required: false })
  format?: WebhookFormat;
}

export class UpdateWebhookDto {
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @IsString({ each: true })
  @ApiProperty({ type: [String], required: false, description: EVENTS_DOC })
  events?: string[];

  @IsOptional() @IsString() @MaxLength(2048)
  @ApiProperty({ format: 'uri', required: false })
  url?: string;

  @IsOptional() @IsString() @MaxLength(500)
  description?: string;
}

export class WebhookDto {
  @ApiProperty({ example: 'whk_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  @ApiProperty({ format: 'uri' })
  url: string;
  events: string[];
  @ApiProperty({ type: String, nullable: true })
  description: string | null;
  @ApiEnum(WEBHOOK_FORMATS, 'WebhookFormat')
  format: WebhookFormat;
  enabled: boolean;
  /** Why the endpoint was disabled automatically (it kept failing), else null. */
  @ApiProperty({ type: String, nullable: true })
  disabled_reason: string | null;
  /** Until when the previous signing secret still signs (a second `v1=`), during a rotation. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  previous_secret_expires_at: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class CreatedWebhookDto extends WebhookDto {
  /** HMAC-SHA256 key of `X-Countersign-Signature`, shown once. */
  @ApiProperty({ example: 'whsec_3q2+7w...' })
  signing_secret: string;
}

export class WebhookDeliveryDto {
  @ApiProperty({ example: 'dlv_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  webhook_id: string;
  /** The event's id (`payload.id`), the same for every endpoint it went to. */
  event_id: string;
  event: string;
  @ApiEnum(DELIVERY_STATUSES, 'WebhookDeliveryStatus')
  status: WebhookDeliveryStatus;
  @ApiInteger()
  attempts: number;
  @ApiInteger({ nullable: true })
  last_status_code: number | null;
  @ApiProperty({ type: String, nullable: true })
  last_error: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  next_attempt_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  delivered_at: string | null;
  @ApiDateTime()
  created_at: string;
}

export class TestWebhookResponseDto {
  @ApiProperty({ example: 'dlv_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  delivery_id: string;
}
