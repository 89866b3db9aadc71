import { PluginManifest } from './plugin-manifest';
import { TableRow } from '../../common/db/row-types';

/** The write-only settings as one KMS envelope (standard base64 fields). */
export interface SealedSettings {
  /** Which write-only fields are set (listed as `"***"` without decrypting). */
  keys: string[];
  wrapped_dek: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export type PluginRow = TableRow<'plugins', { manifest: PluginManifest; settings: Record<string, unknown>; sealed_settings: SealedSettings }>;
