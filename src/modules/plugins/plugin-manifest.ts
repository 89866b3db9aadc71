/** A plugin manifest (SPEC §7), as `plugin-manifest.schema.json` describes it. */
export interface PluginManifest {
  id: string;
  name: string;
  version: string;
  description?: string;
  capability: string;
  permissions?: { key: string; description: string }[];
  request_types?: {
    key: string;
    description: string;
    target_schema: Record<string, unknown>;
    required_permission: string;
    rollback?: boolean;
  }[];
  job_types?: { key: string; description?: string }[];
  settings_schema?: Record<string, unknown>;
  audit_events?: string[];
}

/**
 * The namespace of a plugin's permission and request-type keys: the first dash-separated segment of its id plus a dot
 * (`aws-iam` → `aws.`, `argocd` → `argocd.`, `kubernetes-secrets` → `kubernetes.`).
 */
export function namespacePrefix(pluginId: string): string {
  return `${pluginId.split('-')[0]}.`;
}

/** Top-level settings fields marked `"writeOnly": true`: stored KMS-encrypted, shown as `"***"`, handed only to agents. */
export function writeOnlyKeys(settingsSchema: Record<string, unknown> | undefined): string[] {
  const properties = (settingsSchema?.properties ?? {}) as Record<string, { writeOnly?: unknown } | undefined>;
  return Object.entries(properties)
    .filter(([, p]) => p !== null && typeof p === 'object' && p.writeOnly === true)
    .map(([k]) => k)
    .sort();
}
