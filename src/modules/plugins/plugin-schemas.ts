import { Injectable } from '@nestjs/common';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import { isCorePermission } from '../../common/auth/permission-catalog';
import { namespacePrefix, PluginManifest } from './plugin-manifest';
import manifestSchema from './plugin-manifest.schema.json';

export interface SchemaIssue {
  path: string;
  message: string;
}

const CACHE_LIMIT = 500;

/** `/a/0/b` → `a[0].b`, under `root` (`target` → `target.a[0].b`). */
export function pointerToPath(root: string, pointer: string): string {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), root);
}

/** One issue per ajv error, naming the exact field (a missing or unexpected property is named itself). */
export function toIssues(root: string, errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const child = params.missingProperty ?? params.additionalProperty;
    const pointer = child === undefined ? e.instancePath : `${e.instancePath}/${child}`;
    return { path: pointerToPath(root, pointer), message: e.message ?? 'is invalid' };
  });
}

/**
 * JSON Schema 2020-12 for plugins (ajv): the shipped manifest schema, and the schemas manifests carry (`target_schema`,
 * `settings_schema`), compiled once per distinct schema and cached. Strict about unknown keywords (a typo in a schema is
 * an error, not a silently ignored rule); `format` is an annotation only (no format vocabulary is loaded).
 */
@Injectable()
export class PluginSchemas {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, validateFormats: false, logger: false });
  private readonly manifest: ValidateFunction<PluginManifest> = this.ajv.compile<PluginManifest>(manifestSchema);
  private readonly compiled = new Map<string, { validate: ValidateFunction; schema: Record<string, unknown> }>();

  /**
   * Everything wrong with a manifest on its own: the manifest schema, schemas that do not compile, keys outside the
   * plugin's namespace, duplicates, and a `required_permission` that is neither the plugin's nor core.
   */
  /** The input as a manifest when it has the manifest schema's shape (the rules of `validateManifest` aside). */
  asManifest(input: unknown): PluginManifest | undefined {
    return this.manifest(input) ? input : undefined;
  }

  validateManifest(manifest: unknown): SchemaIssue[] {
    const m = this.asManifest(manifest);
    if (!m) return toIssues('', this.manifest.errors);
    const issues: SchemaIssue[] = [];
    const prefix = namespacePrefix(m.id);
    const own = new Set<string>();
    (m.permissions ?? []).forEach((p, i) => {
      if (!p.key.startsWith(prefix)) issues.push({ path: `permissions[${i}].key`, message: `must start with "${prefix}" (the plugin's namespace)` });
      if (own.has(p.key)) issues.push({ path: `permissions[${i}].key`, message: `duplicates ${p.key}` });
      own.add(p.key);
    });
    const types = new Set<string>();
    (m.request_types ?? []).forEach((t, i) => {
      if (!t.key.startsWith(prefix)) issues.push({ path: `request_types[${i}].key`, message: `must start with "${prefix}" (the plugin's namespace)` });
      if (types.has(t.key)) issues.push({ path: `request_types[${i}].key`, message: `duplicates ${t.key}` });
      types.add(t.key);
      if (!own.has(t.required_permission) && !isCorePermission(t.required_permission)) {
        issues.push({ path: `request_types[${i}].required_permission`, message: `must be one of the plugin's permissions or a core permission` });
      }
      issues.push(...this.compileIssues(`request_types[${i}].target_schema`, t.target_schema));
    });
    if (m.settings_schema) issues.push(...this.compileIssues('settings_schema', m.settings_schema));
    return issues;
  }

  /** Validates `value` against `schema` (compiled and cached); issues are named under `root`. */
  check(root: string, schema: Record<string, unknown>, value: unknown): SchemaIssue[] {
    const validate = this.compile(schema);
    return validate(value) ? [] : toIssues(root, validate.errors);
  }

  private compileIssues(path: string, schema: Record<string, unknown>): SchemaIssue[] {
    try {
      this.compile(schema);
      return [];
    } catch (e) {
      return [{ path, message: `does not compile: ${e instanceof Error ? e.message : String(e)}` }];
    }
  }

  private compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    const hit = this.compiled.get(key);
    if (hit) return hit.validate;
    // Compiled without registering: manifests' schemas may share an `$id` without colliding.
    const { $id: _id, ...anonymous } = schema;
    const validate = this.ajv.compile(anonymous);
    const first = this.compiled.size >= CACHE_LIMIT ? this.compiled.entries().next() : undefined;
    if (first && !first.done) {
      const [oldest, entry] = first.value;
      this.compiled.delete(oldest);
      this.ajv.removeSchema(entry.schema);
    }
    this.compiled.set(key, { validate, schema: anonymous });
    return validate;
  }
}
