import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDate, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ApiDateTime } from '../../../common/api/api-schema';

export class CreateApiKeyDto {
  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty({ example: 'ci-deployer' })
  name: string;

  /** A subset of the caller's tenant-wide permissions. */
  @IsArray() @ArrayMaxSize(200) @IsString({ each: true })
  @ApiProperty({ example: ['request.create', 'request.read'] })
  permissions: string[];

  /** RFC 3339; omit for a key that does not expire. */
  @IsOptional() @Type(() => Date) @IsDate()
  @ApiProperty({ type: String, format: 'date-time', required: false, example: '2027-01-01T00:00:00Z' })
  expires_at?: Date;
}

export class ApiKeyDto {
  @ApiProperty({ example: 'key_01JD3Z6Q8Y4K2M9V7T5R3P1N0B' })
  id: string;
  tenant_id: string;
  name: string;
  /** First 12 characters of the key, to recognise it. */
  @ApiProperty({ example: 'csk_AbCdEfGh' })
  prefix: string;
  permissions: string[];
  created_by: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at: string | null;
  @ApiDateTime()
  created_at: string;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  /** The key itself, shown once. Send it as `X-API-Key` or `Authorization: Bearer`. */
  @ApiProperty({ example: 'csk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCDEFG' })
  key: string;
}
