export interface WorkspaceRow {
  id: string;
  tenant_id: string;
  slug: string;
  display_name: string;
  capabilities: string[];
  status: 'active' | 'deleted';
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface EnvironmentRow {
  id: string;
  tenant_id: string;
  workspace_id: string;
  name: string;
  protected: boolean;
  created_at: Date;
}
