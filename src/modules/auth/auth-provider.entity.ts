import { TableRow } from '../../common/db/row-types';

/** A KMS envelope of a provider's client secret (base64 fields), bound to the tenant and provider. */
export interface SealedClientSecret {
  wrapped_dek: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** `{claim value → group id}`. */
export type GroupMappings = Record<string, string>;

export type AuthProviderRow = TableRow<'auth_providers', { client_secret: SealedClientSecret; group_mappings: GroupMappings }>;

export type OidcLoginRow = TableRow<'oidc_logins'>;

export type OidcIdentityRow = TableRow<'oidc_identities'>;
