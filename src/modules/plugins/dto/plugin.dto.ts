import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ApiDateTime, ApiEnum } from '../../../common/api/api-schema';

export const PLUGIN_SOURCES = ['catalog', 'custom'] as const;
export type PluginSource = (typeof PLUGIN_SOURCES)[number];

export class PluginPermissionDto {
  @ApiProperty({ example: 'aws.iam.rotate' })
  key: string;
  description: string;
}

export class PluginRequestTypeDto {
  @ApiProperty({ example: 'aws.rotate_iam_access_key' })
  key: string;
  description: string;
  /** JSON Schema (2020-12) every request's `target` must satisfy (else 422 INVALID_TARGET). */
  @ApiProperty({ type: 'object', additionalProperties: true })
  target_schema: Record<string, unknown>;
  /** Needed at the request's workspace/environment to create one (besides `request.create`). */
  required_permission: string;
  /** Whether `POST /requests/:id/rollback` applies. */
  @ApiPropertyOptional()
  rollback?: boolean;
}

export class PluginJobTypeDto {
  @ApiProperty({ example: 'gitops.observe' })
  key: string;
  @ApiPropertyOptional()
  description?: string;
}

/** A plugin manifest (SPEC §7); the JSON Schema it must satisfy ships as `plugin-manifest.schema.json`. */
export class PluginManifestDto {
  /** Lower-case words joined by dashes; its first word plus a dot is the namespace of its keys (`aws-iam` → `aws.`). */
  @ApiProperty({ example: 'aws-iam' })
  id: string;
  name: string;
  @ApiProperty({ example: '1.0.0' })
  version: string;
  @ApiPropertyOptional()
  description?: string;
  /** The agent capability that runs this plugin's jobs. */
  @ApiProperty({ example: 'aws-iam' })
  capability: string;
  @ApiPropertyOptional({ type: [PluginPermissionDto] })
  permissions?: PluginPermissionDto[];
  @ApiPropertyOptional({ type: [PluginRequestTypeDto] })
  request_types?: PluginRequestTypeDto[];
  @ApiPropertyOptional({ type: [PluginJobTypeDto] })
  job_types?: PluginJobTypeDto[];
  /** JSON Schema of the installation's settings; top-level properties with `"writeOnly": true` are stored encrypted. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  settings_schema?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String] })
  audit_events?: string[];
}

export class ValidateManifestDto {
  /** The manifest to check (not installed). */
  @IsObject()
  @ApiProperty({ type: 'object', additionalProperties: true })
  manifest: Record<string, unknown>;
}

export class ManifestIssueDto {
  /** Where in the manifest, e.g. `request_types[0].target_schema`. */
  @ApiProperty({ example: 'request_types[0].target_schema' })
  path: string;
  message: string;
}

export class ManifestValidationDto {
  valid: boolean;
  @ApiProperty({ type: [ManifestIssueDto] })
  errors: ManifestIssueDto[];
}

export class InstallPluginDto {
  /** A built-in plugin of `GET /plugins/catalog`… */
  @IsOptional() @Matches(/^[a-z][a-z0-9-]{0,63}$/)
  catalog_id?: string;

  /** …or a custom manifest (exactly one of the two). */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  manifest?: Record<string, unknown>;

  /** Validated against the manifest's `settings_schema`; `writeOnly` fields are KMS-encrypted and never returned. */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, writeOnly: true })
  settings?: Record<string, unknown>;
}

export class UpdatePluginDto {
  /** A disabled plugin's request types and permissions stop applying; requests already in flight finish. */
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  /** Merged into the settings at the top level (RFC 7396: `null` removes a field; a write-only field left out or sent as `"***"` keeps its value). */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, writeOnly: true })
  settings?: Record<string, unknown>;
}

export class PluginJobRequestDto {
  /** The workspace whose agents (with the plugin's capability) may take the job. */
  @IsString() @MinLength(1) @MaxLength(64)
  workspace_id: string;

  @IsOptional() @IsString() @MaxLength(64)
  environment_id?: string;
}

export class PluginJobDto {
  @ApiProperty({ example: 'job_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  job_id: string;
}

export class PluginDto {
  @ApiProperty({ example: 'plg_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  /** The manifest's id (`aws-iam`); permissions it adds show `source: "plugin:<manifest_id>"`. */
  @ApiProperty({ example: 'aws-iam' })
  manifest_id: string;
  name: string;
  version: string;
  @ApiEnum(PLUGIN_SOURCES, 'PluginSource')
  source: PluginSource;
  capability: string;
  enabled: boolean;
  @ApiProperty({ type: PluginManifestDto })
  manifest: PluginManifestDto;
  /** The settings; a write-only field that is set shows as `"***"`. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  settings: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true })
  created_by: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}
