export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  permissions: string[];
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

/** A key with what the guard needs to accept it: tenant status and the creator's standing. */
export interface ApiKeyContextRow extends ApiKeyRow {
  tenant_status: string;
  creator_member_status: string | null;
  creator_is_platform_admin: boolean;
}
