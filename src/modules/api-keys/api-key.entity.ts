import { TableRow } from '../../common/db/row-types';

export type ApiKeyRow = TableRow<'api_keys'>;

/** A key with what the guard needs to accept it: tenant status and the creator's standing. */
export interface ApiKeyContextRow extends ApiKeyRow {
  tenant_status: string;
  creator_member_status: string | null;
  creator_is_platform_admin: boolean;
}
