export interface AgentRow {
  id: string;
  tenant_id: string;
  workspace_id: string;
  environment_id: string | null;
  name: string;
  cluster_name: string;
  version: string | null;
  capabilities: string[];
  secret_hash: string;
  public_key: string | null;
  revoked_at: Date | null;
  last_seen_at: Date | null;
  enrollment_token_id: string | null;
  created_by: string | null;
  created_at: Date;
}

/** An agent with what the guard needs to accept its secret. */
export interface AgentContextRow extends AgentRow {
  tenant_status: string;
}

export interface EnrollmentTokenRow {
  id: string;
  tenant_id: string;
  workspace_id: string;
  environment_id: string | null;
  name: string | null;
  token_hash: string;
  expires_at: Date;
  max_uses: number;
  uses: number;
  created_by: string | null;
  created_at: Date;
}
