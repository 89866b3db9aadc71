import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { POLICY_EFFECTS, type PolicyEffect, MAX_CONDITION_LENGTH } from '../policy-engine';
import { ApiDateTime, ApiEnum, ApiInteger } from '../../../common/api/api-schema';

export class PolicyMatchInputDto {
  /** e.g. `secret.rotate`; empty or absent = every type. */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(100, { each: true })
  @ApiProperty({ example: ['secret.rotate'] })
  request_types?: string[];

  /** Empty or absent = every workspace. */
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @MaxLength(64, { each: true })
  workspace_ids?: string[];

  /** Empty or absent = every environment. */
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @MaxLength(64, { each: true })
  environment_ids?: string[];

  /** Every `key: value` must equal the secret's label (a request without a secret does not match). */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'payments' } })
  secret_labels?: Record<string, string>;
}

/** The whole policy (POST creates it, PUT replaces it). */
export class CreatePolicyDto {
  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'Production rotations need approval' })
  name: string;

  /** -1000..1000; the highest priority among matching policies wins. */
  @IsInt() @Min(-1000) @Max(1000)
  @ApiInteger({ example: 100 })
  priority: number;

  @IsIn(POLICY_EFFECTS)
  @ApiEnum(POLICY_EFFECTS, 'PolicyEffect', { example: 'require_approval' })
  effect: PolicyEffect;

  /** Required when `effect` is `require_approval`, absent otherwise. */
  @IsOptional() @IsString() @MaxLength(64)
  @ApiPropertyOptional({ type: String, nullable: true, example: 'wfl_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  workflow_id?: string | null;

  @IsOptional() @ValidateNested() @Type(() => PolicyMatchInputDto)
  match?: PolicyMatchInputDto;

  /**
   * A CEL expression over `request`, `requester`, `secret`, `target` and `now` (≤ 4,000 characters), type-checked on save
   * against those variables' declared types; it must be `bool`. Evaluated under a cost budget; a condition that errors
   * at evaluation fails closed (deny and require_approval match, auto_approve does not).
   */
  @IsOptional() @IsString() @MaxLength(MAX_CONDITION_LENGTH)
  @ApiPropertyOptional({ type: String, nullable: true, example: 'request.environment_protected && request.type == "secret.rotate"' })
  condition?: string | null;

  /** Default true. */
  @IsOptional() @IsBoolean()
  enabled?: boolean;
}

export class PolicyMatchDto {
  request_types: string[];
  workspace_ids: string[];
  environment_ids: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  secret_labels: Record<string, string>;
}

export class PolicyDto {
  @ApiProperty({ example: 'pol_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  name: string;
  @ApiInteger()
  priority: number;
  @ApiEnum(POLICY_EFFECTS, 'PolicyEffect')
  effect: PolicyEffect;
  @ApiProperty({ type: String, nullable: true })
  workflow_id: string | null;
  match: PolicyMatchDto;
  @ApiProperty({ type: String, nullable: true })
  condition: string | null;
  enabled: boolean;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

/** A request body as for `POST /requests`; `title`, `reason`, `value` and `submit` are accepted and ignored. */
export class EvaluatePolicyDto {
  @IsString() @MinLength(1) @MaxLength(100)
  type: string;

  /** With a secret, the workspace and environment are the secret's. */
  @IsOptional() @IsString() @MaxLength(64)
  secret_id?: string;

  /** Required without `secret_id`. */
  @IsOptional() @IsString() @MaxLength(64)
  workspace_id?: string;

  @IsOptional() @IsString() @MaxLength(64)
  environment_id?: string;

  @IsOptional() @IsInt() @Min(1) @Max(30 * 24 * 3600)
  @ApiInteger()
  access_duration_seconds?: number;

  @IsOptional() @IsString() @MaxLength(500)
  title?: string;

  @IsOptional() @IsString() @MaxLength(5000)
  reason?: string;

  /** Ignored (never stored or logged). */
  @IsOptional() @Allow()
  value?: unknown;

  /** A plugin request's target: conditions see it as `target` (without `secret_id`). */
  @IsOptional() @IsObject()
  target?: Record<string, unknown>;

  /** Ignored. */
  @IsOptional() @IsBoolean()
  submit?: boolean;
}

export class PolicyExplanationDto {
  policy_id: string;
  name: string;
  @ApiInteger()
  priority: number;
  @ApiEnum(POLICY_EFFECTS, 'PolicyEffect')
  effect: PolicyEffect;
  matched: boolean;
  /** e.g. `request_types does not include secret.rotate`, `condition is false`, `selected: highest priority`. */
  reason: string;
}

export class PolicyDecisionDto {
  @ApiEnum(POLICY_EFFECTS, 'PolicyEffect')
  effect: PolicyEffect;
  /** The winning policy, null when none matched (the tenant default applies). */
  @ApiProperty({ type: String, nullable: true })
  policy_id: string | null;
  /** The workflow that would run: the policy's, or the tenant default's when no policy matched; null for deny/auto_approve. */
  @ApiProperty({ type: String, nullable: true })
  workflow_id: string | null;
  @ApiProperty({ type: [PolicyExplanationDto] })
  explanation: PolicyExplanationDto[];
}
