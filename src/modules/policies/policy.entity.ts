import { PolicyEffect, PolicyMatch } from './policy-engine';

export interface PolicyRow {
  id: string;
  tenant_id: string;
  name: string;
  priority: number;
  effect: PolicyEffect;
  workflow_id: string | null;
  match: PolicyMatch;
  condition: string | null;
  enabled: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}
