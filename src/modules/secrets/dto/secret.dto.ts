import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { PaginationQueryDto } from '../../../common/api/pagination.dto';
import { ApiDateTime, ApiEnum, ApiInteger } from '../../../common/api/api-schema';

export const SECRET_STATUSES = ['active', 'unreadable', 'removed'] as const;
export type SecretStatus = (typeof SECRET_STATUSES)[number];
/** What an agent reports (`removed` is decided by a full sync). */
export const REPORTED_SECRET_STATUSES = ['active', 'unreadable'] as const satisfies readonly SecretStatus[];
export type ReportedSecretStatus = (typeof REPORTED_SECRET_STATUSES)[number];

export class ReportedSecretDto {
  @IsString() @MinLength(1) @MaxLength(200)
  cluster_name: string;

  /** e.g. `kubernetes`, `file`. */
  @IsString() @MinLength(1) @MaxLength(100)
  provider: string;

  /** Where the secret lives in the provider (e.g. `namespace/name/key`, a relative file path). Never the value. */
  @IsString() @MinLength(1) @MaxLength(1024)
  ref: string;

  /** String labels. */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  labels?: Record<string, string>;

  /** Default `active`. */
  @IsOptional() @IsIn(REPORTED_SECRET_STATUSES)
  @ApiEnum(REPORTED_SECRET_STATUSES, 'ReportedSecretStatus')
  status?: ReportedSecretStatus;
}

export class BulkSecretsDto {
  @IsArray() @ArrayMaxSize(5000) @ValidateNested({ each: true }) @Type(() => ReportedSecretDto)
  secrets: ReportedSecretDto[];

  /** The list is everything the agent's clusters hold: secrets it no longer reports become `removed`. */
  @IsOptional() @IsBoolean()
  full_sync?: boolean;
}

export class BulkSecretsResultDto {
  @ApiInteger()
  created: number;
  @ApiInteger()
  updated: number;
  @ApiInteger()
  unchanged: number;
  @ApiInteger()
  removed: number;
}

export class ListSecretsQueryDto extends PaginationQueryDto {
  @IsOptional() @IsString() @MaxLength(200)
  cluster_name?: string;

  @IsOptional() @IsString() @MaxLength(100)
  provider?: string;

  @IsOptional() @IsString() @MaxLength(1024)
  ref_prefix?: string;

  @IsOptional() @IsIn(SECRET_STATUSES)
  @ApiEnum(SECRET_STATUSES, 'SecretStatus')
  status?: SecretStatus;

  @IsOptional() @IsString() @MaxLength(64)
  workspace_id?: string;

  @IsOptional() @IsString() @MaxLength(64)
  environment_id?: string;

  /** `key:value`; repeat it, every one must match. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]))
  @IsArray() @ArrayMaxSize(20) @Matches(/^[^:]+:.*$/, { each: true, message: 'each label must be key:value' })
  @ApiProperty({ type: [String], required: false, example: ['team:payments'] })
  label?: string[];
}

export class SecretDto {
  @ApiProperty({ example: 'sec_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  workspace_id: string;
  @ApiProperty({ type: String, nullable: true })
  environment_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  agent_id: string | null;
  cluster_name: string;
  provider: string;
  ref: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels: Record<string, string>;
  @ApiEnum(SECRET_STATUSES, 'SecretStatus')
  status: string;
  @ApiDateTime()
  first_seen_at: string;
  @ApiDateTime()
  last_seen_at: string;
  @ApiDateTime({ nullable: true })
  removed_at: string | null;
}
