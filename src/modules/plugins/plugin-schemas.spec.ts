import { PLUGIN_CATALOG } from './plugin-catalog';
import { namespacePrefix, writeOnlyKeys } from './plugin-manifest';
import { PluginSchemas, pointerToPath } from './plugin-schemas';

const base = {
  id: 'acme-tools',
  name: 'Acme',
  version: '1.0.0',
  capability: 'acme',
  permissions: [{ key: 'acme.deploy', description: 'Deploy' }],
  request_types: [{ key: 'acme.deploy_service', description: 'Deploy a service', target_schema: { type: 'object', required: ['service'], properties: { service: { type: 'string' } } }, required_permission: 'acme.deploy' }],
};

describe('plugin manifests', () => {
  const schemas = new PluginSchemas();

  it('every built-in catalog manifest is valid', () => {
    for (const m of PLUGIN_CATALOG) expect({ id: m.id, issues: schemas.validateManifest(m) }).toEqual({ id: m.id, issues: [] });
  });

  it('namespace: the first dash-separated word of the id plus a dot', () => {
    expect(namespacePrefix('aws-iam')).toBe('aws.');
    expect(namespacePrefix('argocd')).toBe('argocd.');
    expect(schemas.validateManifest({ ...base, permissions: [{ key: 'other.deploy', description: 'x' }], request_types: [] })).toEqual([{ path: 'permissions[0].key', message: 'must start with "acme." (the plugin\'s namespace)' }]);
  });

  it('a target_schema that does not compile is listed with its path; the manifest schema names fields', () => {
    const issues = schemas.validateManifest({ ...base, request_types: [{ ...base.request_types[0], target_schema: { type: 'object', properties: { service: { type: 'strnig' } } } }] });
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('request_types[0].target_schema');
    expect(issues[0].message).toMatch(/does not compile/);
    expect(schemas.validateManifest({ ...base, version: 'one', extra: true }).map((i) => i.path).sort()).toEqual(['extra', 'version']);
    expect(schemas.validateManifest({ ...base, request_types: [{ ...base.request_types[0], required_permission: 'acme.nope' }] })).toEqual([{ path: 'request_types[0].required_permission', message: "must be one of the plugin's permissions or a core permission" }]);
  });

  it('values: each error names the field under its root', () => {
    const schema = base.request_types[0].target_schema;
    expect(schemas.check('target', schema, {})).toEqual([{ path: 'target.service', message: "must have required property 'service'" }]);
    expect(schemas.check('target', schema, { service: 3 })).toEqual([{ path: 'target.service', message: 'must be string' }]);
    expect(schemas.check('target', { ...schema, additionalProperties: false }, { service: 'a', x: 1 })).toEqual([{ path: 'target.x', message: 'must NOT have additional properties' }]);
    expect(pointerToPath('target', '/a/0/b~1c')).toBe('target.a[0].b/c');
  });

  it('write-only settings are the top-level properties marked writeOnly', () => {
    expect(writeOnlyKeys(PLUGIN_CATALOG.find((m) => m.id === 'aws-iam')!.settings_schema)).toEqual(['secret_access_key']);
    expect(writeOnlyKeys(undefined)).toEqual([]);
  });
});
