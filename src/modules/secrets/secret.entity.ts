export interface SecretRow {
  id: string;
  tenant_id: string;
  workspace_id: string;
  environment_id: string | null;
  agent_id: string | null;
  cluster_name: string;
  provider: string;
  ref: string;
  labels: Record<string, string>;
  status: string;
  first_seen_at: Date;
  last_seen_at: Date;
  removed_at: Date | null;
  updated_at: Date;
}
