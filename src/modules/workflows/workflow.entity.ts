export interface WorkflowStage {
  name: string;
  required_approvals: number;
  approver_role_ids: string[];
  approver_user_ids: string[];
}

export interface WorkflowRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  stages: WorkflowStage[];
  approval_timeout_seconds: number | null;
  auto_execute: boolean;
  version: number;
  built_in: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}
