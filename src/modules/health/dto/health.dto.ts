import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

export class ReadinessChecksDto {
  @ApiProperty({ enum: ['up', 'down'] })
  database: 'up' | 'down';

  @ApiProperty({ enum: ['up', 'down'] })
  migrations: 'up' | 'down';

  @ApiProperty({ enum: ['up', 'down', 'disabled'] })
  redis: 'up' | 'down' | 'disabled';

  /** Present (and `down`) once shutdown has begun. */
  @ApiProperty({ enum: ['down'], required: false })
  lifecycle?: 'down';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status: 'ok' | 'unavailable';

  checks: ReadinessChecksDto;
}

export class ApiHealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status: 'ok' | 'unavailable';

  @ApiProperty({ enum: ['connected', 'disconnected'] })
  db: 'connected' | 'disconnected';

  /** The service version, e.g. `0.1.0`. */
  version: string;
}

export class VersionDto {
  /** The service version (semver). */
  version: string;
  /** The git commit the build came from, or `unknown`. */
  commit: string;
  /** RFC 3339 time of the build. */
  build_date: string;
  @ApiProperty({ enum: ['1'] })
  api_version: '1';
}
