import { TableRow } from '../../common/db/row-types';
import { SessionsTable, TenantMembersTable, TenantsTable } from '../../common/db/schema.generated';

export type UserRow = TableRow<'users'>;

/** A user seen from one tenant: the membership's status is the user's status there. */
export interface MemberRow extends UserRow {
  tenant_id: string;
  member_status: TenantMembersTable['status'];
}

/** A user as a tenant lists them: a member, or an open invitation by email (its own id, name and time). */
export interface UserViewRow extends Pick<UserRow, 'id' | 'email' | 'name' | 'is_platform_admin' | 'created_at' | 'updated_at'> {
  status: UserRow['status'] | TenantMembersTable['status'];
}

/** `user_id` is set for invitations issued with their account (tenant creation); else `email`, `name`, `invitee_id`. */
export type InvitationRow = TableRow<'invitations'>;

export interface OwnerRow {
  user_id: string;
  active: boolean;
}

export type SessionRow = TableRow<'sessions'>;

/** Everything the guard needs to accept a session, in one row. */
export interface SessionContextRow {
  session_id: SessionsTable['id'];
  session_revoked_at: SessionsTable['revoked_at'];
  session_expires_at: SessionsTable['expires_at'];
  tenant_id: TenantsTable['id'];
  tenant_status: TenantsTable['status'];
  user_id: UserRow['id'];
  email: UserRow['email'];
  name: UserRow['name'];
  user_status: UserRow['status'];
  is_platform_admin: UserRow['is_platform_admin'];
  /** Null when the user is no longer a member of the session's tenant (LEFT JOIN). */
  member_status: TenantMembersTable['status'] | null;
}
