export interface ApprovalRow {
  id: string;
  tenant_id: string;
  request_id: string;
  stage: number;
  approver_id: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  created_at: Date;
}
