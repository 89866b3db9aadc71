import { PluginManifest } from './plugin-manifest';

/** The write-only settings as one KMS envelope (standard base64 fields). */
export interface SealedSettings {
  /** Which write-only fields are set (listed as `"***"` without decrypting). */
  keys: string[];
  wrapped_dek: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface PluginRow {
  id: string;
  tenant_id: string;
  manifest_id: string;
  source: 'catalog' | 'custom';
  manifest: PluginManifest;
  capability: string;
  permission_keys: string[];
  request_type_keys: string[];
  enabled: boolean;
  /** The settings without their write-only fields. */
  settings: Record<string, unknown>;
  sealed_settings: SealedSettings | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}
