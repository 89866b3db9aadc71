import { JobsTable } from '../../common/db/schema.generated';
import { TableRow } from '../../common/db/row-types';

export type JobStatus = JobsTable['status'];

/** `plugin_id`: the plugin installation the job runs for: its settings are added to the payload at claim time only. */
export type JobRow = TableRow<'jobs', { payload: Record<string, unknown>; result: Record<string, unknown> }>;
