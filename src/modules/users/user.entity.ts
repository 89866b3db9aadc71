export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  status: 'active' | 'invited';
  is_platform_admin: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A user seen from one tenant: the membership's status is the user's status there. */
export interface MemberRow extends UserRow {
  tenant_id: string;
  member_status: 'active' | 'disabled';
}

/** A user as a tenant lists them: a member, or an open invitation by email (its own id, name and time). */
export interface UserViewRow {
  id: string;
  email: string;
  name: string;
  status: 'active' | 'invited' | 'disabled';
  is_platform_admin: boolean;
  created_at: Date;
  updated_at: Date;
}

/** `user_id` is set for invitations issued with their account (tenant creation); else `email`, `name`, `invitee_id`. */
export interface InvitationRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  email: string | null;
  name: string | null;
  invitee_id: string | null;
  token_hash: string;
  expires_at: Date;
  accepted_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

export interface OwnerRow {
  user_id: string;
  active: boolean;
}

export interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  created_at: Date;
}

/** Everything the guard needs to accept a session, in one row. */
export interface SessionContextRow {
  session_id: string;
  session_revoked_at: Date | null;
  session_expires_at: Date;
  tenant_id: string;
  tenant_status: string;
  user_id: string;
  email: string;
  name: string;
  user_status: string;
  is_platform_admin: boolean;
  member_status: string | null;
}
