import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, valuesOf } from '../../../common/api/api-schema';
import { BackgroundTaskStatus } from '../../../common/db/exclusive-runner';

export const CHECK_STATES = ['up', 'down'] as const;
export type CheckState = (typeof CHECK_STATES)[number];
/** A check of something optional (Redis): `disabled` when not configured. */
export const OPTIONAL_CHECK_STATES = ['up', 'down', 'disabled'] as const;
export type OptionalCheckState = (typeof OPTIONAL_CHECK_STATES)[number];
export const SERVICE_STATUSES = ['ok', 'unavailable'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];
export const DATABASE_CONNECTION_STATES = ['connected', 'disconnected'] as const;
export type DatabaseConnectionState = (typeof DATABASE_CONNECTION_STATES)[number];
const BACKGROUND_TASK_STATUSES = valuesOf<BackgroundTaskStatus>()(['ok', 'failing', 'standby', 'pending']);

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

export class ReadinessChecksDto {
  @ApiEnum(CHECK_STATES, 'CheckState')
  database: CheckState;

  @ApiEnum(CHECK_STATES, 'CheckState')
  migrations: CheckState;

  @ApiEnum(OPTIONAL_CHECK_STATES, 'OptionalCheckState')
  redis: OptionalCheckState;

  /** Present (and `down`) once shutdown has begun. */
  @ApiProperty({ enum: ['down'], required: false })
  lifecycle?: 'down';
}

export class ReadinessDto {
  @ApiEnum(SERVICE_STATUSES, 'ServiceStatus')
  status: ServiceStatus;

  checks: ReadinessChecksDto;
}

export class BackgroundTaskDto {
  /** e.g. `audit-sealer`, `job-lease-sweeper`. */
  task: string;
  /** `standby`: another replica holds the task's lock; `pending`: not run yet; `failing`: the last run failed. */
  @ApiEnum(BACKGROUND_TASK_STATUSES, 'BackgroundTaskStatus')
  status: BackgroundTaskStatus;
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
  @ApiEnum(SERVICE_STATUSES, 'ServiceStatus')
  status: ServiceStatus;

  @ApiEnum(DATABASE_CONNECTION_STATES, 'DatabaseConnectionState')
  db: DatabaseConnectionState;

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
  @ApiDateTime()
  build_date: string;
  @ApiProperty({ enum: ['1'] })
  api_version: '1';
}
