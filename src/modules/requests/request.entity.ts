import { RequestStatus } from './request-lifecycle';

export interface RequestRow {
  id: string;
  tenant_id: string;
  type: string;
  title: string;
  reason: string;
  status: RequestStatus;
  requester_id: string;
  workspace_id: string;
  environment_id: string | null;
  secret_id: string | null;
  target: Record<string, unknown> | null;
  access_duration_seconds: number | null;
  policy_decision: Record<string, unknown> | null;
  workflow: WorkflowSnapshotJson | null;
  current_stage: number | null;
  approval_expires_at: Date | null;
  job_id: string | null;
  break_glass: boolean;
  submitted_at: Date | null;
  decided_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface WorkflowSnapshotJson {
  id: string;
  name: string;
  version: number;
  stages: { name: string; required_approvals: number; approver_role_ids: string[]; approver_user_ids: string[] }[];
  approval_timeout_seconds: number | null;
  auto_execute: boolean;
}

export interface WrapRow {
  id: string;
  tenant_id: string;
  request_id: string;
  kind: 'read' | 'patch';
  dek_id: string | null;
  wrapped_dek: string | null;
  iv: string | null;
  tag: string | null;
  ciphertext: string | null;
  agent_id: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
  created_at: Date;
}
