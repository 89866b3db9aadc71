import { PluginManifest } from './plugin-manifest';

/** The built-in plugins (`GET /plugins/catalog`); each validates against the shipped manifest schema (unit-tested). */
export const PLUGIN_CATALOG: readonly PluginManifest[] = [
  {
    id: 'kubernetes-secrets',
    name: 'Kubernetes Secrets',
    version: '1.0.0',
    description: 'The capability for the built-in secret.read, secret.patch and secret.rotate types on Kubernetes secrets; adds no request types of its own.',
    capability: 'kubernetes-secrets',
    permissions: [],
    request_types: [],
    settings_schema: {
      type: 'object',
      properties: { namespaces: { type: 'array', items: { type: 'string' }, description: 'Namespaces the agent may touch (empty: all it can see).' } },
      additionalProperties: false,
    },
  },
  {
    id: 'aws-iam',
    name: 'AWS IAM',
    version: '1.0.0',
    description: 'Rotate IAM users’ access keys through an agent running in the AWS account.',
    capability: 'aws-iam',
    permissions: [{ key: 'aws.iam.rotate', description: 'Request the rotation of an IAM user’s access key.' }],
    request_types: [
      {
        key: 'aws.rotate_iam_access_key',
        description: 'Rotate an IAM user’s access key',
        target_schema: { type: 'object', required: ['iam_user'], properties: { iam_user: { type: 'string' } }, additionalProperties: false },
        required_permission: 'aws.iam.rotate',
        rollback: true,
      },
    ],
    settings_schema: { type: 'object', properties: { region: { type: 'string' }, secret_access_key: { type: 'string', writeOnly: true } } },
    audit_events: ['aws.key_rotated'],
  },
  {
    id: 'argocd',
    name: 'Argo CD',
    version: '1.0.0',
    description: 'Sync Argo CD applications under approval, and observe their sync and health status.',
    capability: 'argocd',
    permissions: [{ key: 'argocd.sync', description: 'Request the sync of an Argo CD application.' }],
    request_types: [
      {
        key: 'argocd.sync_application',
        description: 'Sync an Argo CD application (to a revision, or its target revision)',
        target_schema: {
          type: 'object',
          required: ['application'],
          properties: { application: { type: 'string', minLength: 1 }, revision: { type: 'string', minLength: 1 } },
          additionalProperties: false,
        },
        required_permission: 'argocd.sync',
        rollback: true,
      },
    ],
    job_types: [{ key: 'gitops.observe', description: 'Report the live sync and health status of the applications the agent sees.' }],
    settings_schema: {
      type: 'object',
      properties: { server_url: { type: 'string' }, auth_token: { type: 'string', writeOnly: true } },
      additionalProperties: false,
    },
  },
];
