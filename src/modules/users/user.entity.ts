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
