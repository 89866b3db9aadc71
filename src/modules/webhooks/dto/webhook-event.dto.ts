import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WEBHOOK_EVENTS } from '../webhook-events';
import { ApiEnum, ApiInteger } from '../../../common/api/api-schema';
import { REQUEST_STATUSES, RequestStatus } from '../../requests/request-lifecycle';

/** Documentation only: the bodies Countersign POSTs to a `format: "json"` endpoint, one schema per event family. */

export class ApproverRefDto {
  user_id: string;
  @ApiProperty({ format: 'email' })
  email: string;
}

export class RequestEventDataDto {
  @ApiProperty({ example: 'req_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  request_id: string;
  type: string;
  title: string;
  reason: string;
  @ApiEnum(REQUEST_STATUSES, 'RequestStatus')
  status: RequestStatus;
  requester_id: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  break_glass: boolean;
  /** `request.approval_needed`: the stage waiting for decisions. */
  @ApiInteger({ required: false })
  stage?: number;
  @ApiPropertyOptional()
  stage_name?: string;
  /** `request.approval_needed`: approvals still needed at the stage. */
  @ApiInteger({ required: false })
  remaining_approvals?: number;
  /** `request.approval_needed`: who may decide the stage now (minus those who did). */
  @ApiPropertyOptional({ type: [ApproverRefDto] })
  eligible_approvers?: ApproverRefDto[];
  /** `request.break_glass`: the stated emergency. */
  @ApiPropertyOptional()
  break_glass_reason?: string;
  /** `request.completed` / `failed` / `rolled_back`: the job that ended. */
  @ApiPropertyOptional()
  job_id?: string;
}

export class AgentOfflineDataDto {
  agent_id: string;
  name: string;
  cluster_name: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  @ApiProperty({ type: String, format: 'date-time' })
  last_seen_at: string;
  @ApiInteger()
  offline_after_seconds: number;
}

export class AuditChainBrokenDataDto {
  @ApiProperty({ type: String, nullable: true })
  first_invalid_id: string | null;
  @ApiInteger()
  checked: number;
  @ApiProperty({ enum: ['verify'] })
  detected_by: 'verify';
}

export class PingDataDto {
  webhook_id: string;
  message: string;
}

class WebhookEventBaseDto {
  @ApiProperty({ example: 'evt_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', description: 'The event id, the same for every endpoint; dedupe on `X-Countersign-Delivery`.' })
  id: string;
  @ApiProperty({ type: String, format: 'date-time' })
  created_at: string;
  tenant_id: string;
}

const REQUEST_EVENTS = WEBHOOK_EVENTS.filter((e) => e.startsWith('request.'));

export class RequestWebhookEventDto extends WebhookEventBaseDto {
  /** A per-schema discriminator (the `request.*` events), kept inline. */
  @ApiProperty({ enum: REQUEST_EVENTS })
  type: string;
  /** Present (true) on `request.break_glass`. */
  @ApiPropertyOptional()
  urgent?: boolean;
  data: RequestEventDataDto;
}

export class AgentOfflineWebhookEventDto extends WebhookEventBaseDto {
  @ApiProperty({ enum: ['agent.offline'] })
  type: 'agent.offline';
  data: AgentOfflineDataDto;
}

export class AuditChainBrokenWebhookEventDto extends WebhookEventBaseDto {
  @ApiProperty({ enum: ['audit.chain_broken'] })
  type: 'audit.chain_broken';
  data: AuditChainBrokenDataDto;
}

export class PingWebhookEventDto extends WebhookEventBaseDto {
  @ApiProperty({ enum: ['ping'] })
  type: 'ping';
  data: PingDataDto;
}
