import { ScopeType } from '../../common/auth/principal';

export interface RoleRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  permissions: string[];
  built_in: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface UserRoleRow {
  id: string;
  tenant_id: string;
  user_id: string;
  role_id: string;
  scope_type: ScopeType;
  scope_id: string;
  created_by: string | null;
  created_at: Date;
  role_name?: string;
  role_built_in?: boolean;
}
