import { RequestStatus } from './request-lifecycle';
import { TableRow } from '../../common/db/row-types';

export type RequestRow = TableRow<
  'requests',
  { status: RequestStatus; target: Record<string, unknown>; policy_decision: Record<string, unknown>; workflow: WorkflowSnapshotJson }
>;

export interface WorkflowSnapshotJson {
  id: string;
  name: string;
  version: number;
  stages: { name: string; required_approvals: number; approver_role_ids: string[]; approver_user_ids: string[]; approver_group_ids?: string[] }[];
  approval_timeout_seconds: number | null;
  auto_execute: boolean;
}

export type WrapRow = TableRow<'wraps'>;
