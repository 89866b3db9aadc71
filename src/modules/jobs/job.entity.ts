export type JobStatus = 'queued' | 'leased' | 'succeeded' | 'failed' | 'dead';

export interface JobRow {
  id: string;
  tenant_id: string;
  workspace_id: string;
  environment_id: string | null;
  capability: string | null;
  target_agent_id: string | null;
  requires_public_key: boolean;
  type: string;
  payload: Record<string, unknown>;
  status: JobStatus;
  attempt: number;
  max_attempts: number;
  agent_id: string | null;
  lease_token: string | null;
  lease_expires_at: Date | null;
  completed_lease_token: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  /** The plugin installation the job runs for: its settings are added to the payload at claim time only. */
  plugin_id: string | null;
  owner_type: string | null;
  owner_id: string | null;
  correlation_id: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}
