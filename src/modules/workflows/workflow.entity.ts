import { TableRow } from '../../common/db/row-types';

export interface WorkflowStage {
  name: string;
  required_approvals: number;
  approver_role_ids: string[];
  approver_user_ids: string[];
  /** Absent in workflows stored before groups existed. */
  approver_group_ids?: string[];
}

export type WorkflowRow = TableRow<'workflows', { stages: WorkflowStage[] }>;
