import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsObject, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ApiDateTime } from '../../../common/api/api-schema';

/** A DNS name, lower or upper case (compared lower-cased). */
export const EMAIL_DOMAIN_PATTERN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
/** An OAuth scope token (RFC 6749 §3.3). */
export const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
/** A top-level claim name. */
export const CLAIM_PATTERN = /^[A-Za-z0-9_.:/-]{1,100}$/;

const MAPPINGS_DOC =
  'Values of the `groups_claim` → group ids of this tenant (at most 200). The named groups become managed by the provider: their members are set at each sign-in from the claim, and are no longer editable locally.';

export class CreateAuthProviderDto {
  /** Shown to people choosing how to sign in; defaults to the issuer's host. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  /** The issuer identifier (exactly as in its discovery document): https, or http on loopback with OIDC_ALLOW_INSECURE_ISSUERS. */
  @IsString() @MaxLength(2048)
  @ApiProperty({ format: 'uri', example: 'https://login.example.com/realms/acme' })
  issuer: string;

  @IsString() @MinLength(1) @MaxLength(255)
  @ApiProperty({ example: 'countersign' })
  client_id: string;

  /** Write-only: stored encrypted under the KMS, never returned, logged or audited. */
  @IsString() @MinLength(1) @MaxLength(1024)
  @ApiProperty({ writeOnly: true, example: 's3cr3t-from-the-provider' })
  client_secret: string;

  /** Requested scopes; `openid` is added when missing. Default `openid email profile`. */
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(20) @IsString({ each: true }) @Matches(SCOPE_PATTERN, { each: true })
  @ApiProperty({ type: [String], required: false, example: ['openid', 'email', 'profile', 'groups'] })
  scopes?: string[];

  /** Email domains whose people may join the tenant at their first sign-in (just-in-time membership). Empty: members only. */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Matches(EMAIL_DOMAIN_PATTERN, { each: true })
  @ApiProperty({ type: [String], required: false, example: ['acme.example'] })
  allowed_email_domains?: string[];

  /** The ID token claim (a string or an array of strings) that lists the person's groups. */
  @IsOptional() @IsString() @Matches(CLAIM_PATTERN)
  @ApiProperty({ type: String, required: false, nullable: true, example: 'groups' })
  groups_claim?: string | null;

  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: MAPPINGS_DOC, example: { 'acme-approvers': 'grp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' } })
  group_mappings?: Record<string, string>;

  @IsOptional() @IsBoolean()
  enabled?: boolean;
}

export class UpdateAuthProviderDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  @IsOptional() @IsString() @MaxLength(2048)
  @ApiProperty({ format: 'uri', required: false })
  issuer?: string;

  @IsOptional() @IsString() @MinLength(1) @MaxLength(255)
  client_id?: string;

  /** Write-only: replaces the stored secret. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(1024)
  @ApiProperty({ writeOnly: true, required: false })
  client_secret?: string;

  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(20) @IsString({ each: true }) @Matches(SCOPE_PATTERN, { each: true })
  @ApiProperty({ type: [String], required: false })
  scopes?: string[];

  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Matches(EMAIL_DOMAIN_PATTERN, { each: true })
  @ApiProperty({ type: [String], required: false })
  allowed_email_domains?: string[];

  /** `null` stops syncing groups (the provider's groups keep their members until they are remapped or deleted). */
  @IsOptional() @IsString() @Matches(CLAIM_PATTERN)
  @ApiProperty({ type: String, required: false, nullable: true })
  groups_claim?: string | null;

  /** Replaces the whole mapping. */
  @IsOptional() @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: MAPPINGS_DOC })
  group_mappings?: Record<string, string>;

  @IsOptional() @IsBoolean()
  enabled?: boolean;
}

export class AuthProviderDto {
  @ApiProperty({ example: 'idp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  name: string;
  @ApiProperty({ format: 'uri' })
  issuer: string;
  client_id: string;
  scopes: string[];
  allowed_email_domains: string[];
  @ApiProperty({ type: String, nullable: true })
  groups_claim: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Claim value → group id.' })
  group_mappings: Record<string, string>;
  enabled: boolean;
  /** Register this as the client's redirect URI at the provider (null until OIDC_REDIRECT_URI or PUBLIC_URL is set). */
  @ApiProperty({ type: String, nullable: true, format: 'uri' })
  redirect_uri: string | null;
  /** Where a browser starts signing in with this provider. */
  @ApiProperty({ example: '/api/v1/auth/oidc/idp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B/start' })
  start_path: string;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class OidcStartDto {
  /** Send the browser here; the sign-in comes back to `redirect_uri` within 10 minutes. */
  @ApiProperty({ format: 'uri' })
  authorization_url: string;
}

export class OidcCallbackQueryDto {
  @IsOptional() @IsString() @MaxLength(2048)
  code?: string;

  @IsString() @MinLength(1) @MaxLength(512)
  state: string;

  /** Set by the provider instead of `code` when the person did not sign in (e.g. `access_denied`). */
  @IsOptional() @IsString() @MaxLength(256)
  error?: string;

  @IsOptional() @IsString() @MaxLength(2048)
  error_description?: string;

  /** RFC 9207 issuer identification, checked by openid-client when the provider announces it. */
  @IsOptional() @IsString() @MaxLength(2048)
  iss?: string;

  @IsOptional() @IsString() @MaxLength(2048)
  session_state?: string;

  /** Extra parameters some providers add to the redirect (ignored). */
  @IsOptional() @IsString() @MaxLength(2048)
  scope?: string;

  @IsOptional() @IsString() @MaxLength(256)
  authuser?: string;

  @IsOptional() @IsString() @MaxLength(256)
  hd?: string;

  @IsOptional() @IsString() @MaxLength(256)
  prompt?: string;
}
