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

export class BackgroundTaskDto {
  /** e.g. `audit-sealer`, `job-lease-sweeper`. */
  task: string;
  /** `standby`: another replica holds the task's lock; `pending`: not run yet; `failing`: the last run failed. */
  @ApiProperty({ enum: ['ok', 'failing', 'standby', 'pending'] })
  status: 'ok' | 'failing' | 'standby' | 'pending';
  @ApiProperty({ type: 'integer' })
  interval_ms: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_run_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_success_at: string | null;
  @ApiProperty({ type: 'integer' })
  consecutive_failures: number;
  /** Work not caught up with yet (the sealer: unsealed events), or null for tasks that report none. */
  @ApiProperty({ type: 'integer', nullable: true })
  backlog: number | null;
}

export class ApiHealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status: 'ok' | 'unavailable';

  @ApiProperty({ enum: ['connected', 'disconnected'] })
  db: 'connected' | 'disconnected';

  /** The service version, e.g. `0.1.0`. */
  version: string;

  /** The background tasks of this replica (sealer, sweepers) and how their last runs went. */
  @ApiProperty({ type: () => [BackgroundTaskDto] })
  background: BackgroundTaskDto[];
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
