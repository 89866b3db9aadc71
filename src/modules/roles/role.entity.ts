import { ScopeType } from '../../common/auth/principal';
import { TableRow } from '../../common/db/row-types';

export type RoleRow = TableRow<'roles'>;

export interface UserRoleRow extends TableRow<'user_roles', { scope_type: ScopeType }> {
  role_name?: string;
  role_built_in?: boolean;
  /** The group's name when the assignment targets a group. */
  group_name?: string | null;
}
