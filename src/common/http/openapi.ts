import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ID_PREFIXES, IdKind } from '../crypto/ids';
import { ErrorEnvelope } from '../errors/error-envelope.dto';
import { IDEMPOTENCY_EXTENSION } from './idempotency.decorator';
import { ETAG_EXTENSION } from './caching';

type Schema = Record<string, unknown>;
type Response = { description?: string; content?: Record<string, { schema?: Schema }>; headers?: Record<string, unknown> };
type Parameter = { $ref?: string; name?: string; in?: string; schema?: Schema; example?: unknown; description?: string };
type Operation = { parameters?: Parameter[]; responses: Record<string, Response>; security?: unknown[]; summary?: string };
const MUTATING = new Set(['post', 'put', 'patch', 'delete']);
const ERROR_REF = { $ref: '#/components/schemas/ErrorEnvelope' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_REF } } });
/** Probes and meta routes are never rate limited (SPEC §1); `/openapi.json` and `/docs` are not operations of the document. */
const UNLIMITED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics', '/openapi.json', '/docs']);
const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
const rateLimitHeaderRefs = () => Object.fromEntries(RATE_LIMIT_HEADERS.map((h) => [h, { $ref: `#/components/headers/${h}` }]));

/** Every tag an operation may carry, declared once with what it covers (order = order in the docs). */
export const API_TAGS: readonly { name: string; description: string }[] = [
  { name: 'Health', description: 'Probes (`/healthz`, `/livez`, `/readyz`), API health, version and Prometheus metrics.' },
  { name: 'Auth', description: 'First-run setup, sign-in, token refresh, sessions, tenant switching, invitations and the JWKS.' },
  { name: 'Tenants', description: 'Tenants (organisations): created by platform admins, each with its built-in roles and owner.' },
  { name: 'Users', description: 'Members of the active tenant: add or invite, rename, disable.' },
  { name: 'Workspaces', description: 'Workspaces of a tenant and their environments (the scopes of roles, agents and secrets).' },
  { name: 'Permissions', description: "The tenant's permission catalog: core permissions and those of enabled plugins." },
  { name: 'Roles', description: 'Built-in and custom roles: sets of permissions.' },
  { name: 'UserRoles', description: 'Role assignments: a user holds a role at tenant, workspace or environment scope.' },
  { name: 'Groups', description: "A tenant's teams: members hold the groups' role assignments, and workflow stages can name groups as approvers." },
  { name: 'Authz', description: 'Ask whether a user or API key may use a permission on a resource, and why.' },
  { name: 'ApiKeys', description: 'API keys (`csk_…`) with a subset of their creator\'s permissions, shown once.' },
  { name: 'Agents', description: 'Agents in customer clusters: enrollment, credentials, heartbeats and data keys.' },
  { name: 'AgentJobs', description: 'Called by agents: claim queued jobs and report their outcome.' },
  { name: 'AgentSecrets', description: 'Called by agents: report the secrets they discovered (metadata only).' },
  { name: 'AgentWraps', description: 'Called by agents: hand over and fetch single-use encrypted values (wraps).' },
  { name: 'Jobs', description: 'The job queue as operators see it: enqueue discovery, list and inspect jobs.' },
  { name: 'Secrets', description: 'The discovered secret inventory (metadata, never values).' },
  { name: 'Requests', description: 'Change and read requests: lifecycle, approvals, execution, rollback, break-glass and wraps.' },
  { name: 'Approvals', description: "The caller's approval inbox." },
  { name: 'Policies', description: 'Policies decide each submitted request: deny, auto-approve or require approval (CEL conditions).' },
  { name: 'Workflows', description: 'Approval workflows: ordered stages with their approvers and thresholds.' },
  { name: 'Plugins', description: 'Plugins add request types, job types and permissions; catalog, validation, installation, tests.' },
  { name: 'Webhooks', description: 'Endpoints that receive signed event notifications, with their deliveries.' },
  { name: 'Audit', description: 'The tamper-evident audit trail: events, export, chain verification and signed checkpoints.' },
];

/**
 * Operation ids are `<Noun>_<verb>`: the controller's name without `Controller`, then the handler's name
 * (`Requests_approve`). Generators camel-case them (`requestsApprove`), so the verb must not repeat the noun: a handler
 * whose name would (`Health_healthz`, `ApprovalsInbox_inbox`) sets an explicit `operationId` in `@ApiOperation`, and
 * test/e2e/openapi.e2e-spec.ts fails on any id in which a word repeats. Ids are stable across releases.
 */
export function operationId(controllerKey: string, methodKey: string): string {
  return `${controllerKey.replace(/Controller$/, '')}_${methodKey}`;
}

/**
 * Builds the OpenAPI document from the code (the swagger CLI plugin documents DTOs, JSDoc becomes operation
 * descriptions), then adds what every operation shares: request-id headers, the Idempotency-Key header on mutations, the
 * error envelope, the rate-limit headers and 429 on every limited operation, and typed path parameters.
 */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Countersign API')
    .setDescription(
      'Governed access: requests, policies, approvals, agents and single-use wraps. Errors always use the `ErrorEnvelope` shape.',
    )
    .setVersion(version)
    .setLicense('Proprietary', 'https://countersign.invalid/license')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'User access token, or an API key `csk_…`.' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key `csk_…`.' }, 'api_key')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Agent-Secret', description: 'Agent secret, on /api/v1/agents/:id/… routes.' }, 'agent_secret');
  for (const tag of API_TAGS) builder.addTag(tag.name, tag.description);
  const document = SwaggerModule.createDocument(app, builder.build(), { operationIdFactory: operationId, extraModels: [ErrorEnvelope] });
  return addSharedParts(document);
}

/** The id kind named by the path segment before a parameter (`/requests/{id}` → request), for its pattern and example. */
const ID_KIND_OF_SEGMENT: Readonly<Record<string, IdKind>> = {
  tenants: 'tenant',
  workspaces: 'workspace',
  environments: 'environment',
  users: 'user',
  roles: 'role',
  'user-roles': 'userRole',
  groups: 'group',
  'api-keys': 'apiKey',
  agents: 'agent',
  jobs: 'job',
  secrets: 'secret',
  requests: 'request',
  wraps: 'wrap',
  workflows: 'workflow',
  policies: 'policy',
  plugins: 'plugin',
  'audit-events': 'audit',
  webhooks: 'webhook',
  deliveries: 'delivery',
};
/** `newId` ids: the kind's prefix, `_`, then a ULID (26 Crockford base-32 characters). */
const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const EXAMPLE_ULID = '01JD3Z6Q8Y4K2M9V7T5R3P1N0B';

/** Every path parameter is a string; an id of a known kind also gets its pattern and an example. */
function typePathParameter(path: string, parameter: Parameter): void {
  const segments = path.split('/');
  const index = segments.indexOf(`{${parameter.name}}`);
  const kind = index > 0 ? ID_KIND_OF_SEGMENT[segments[index - 1]] : undefined;
  parameter.schema = { ...parameter.schema, type: 'string' };
  if (kind) {
    parameter.schema.pattern = `^${ID_PREFIXES[kind]}_${ULID}$`;
    parameter.example ??= `${ID_PREFIXES[kind]}_${EXAMPLE_ULID}`;
  }
}

/** A description for a success response the code left without one (the plugin's default responses have none). */
function successDescription(status: string, response: Response): string {
  const ref = Object.values(response.content ?? {})[0]?.schema?.$ref;
  const name = typeof ref === 'string' ? ref.split('/').pop() : undefined;
  if (status === '204') return 'Done; no content.';
  const what = name ? `: a \`${name}\`` : '';
  return `${status === '201' ? 'Created' : 'OK'}${what}.`;
}

/**
 * @nestjs/swagger wraps every schema reference in `allOf` so that siblings (`description`, `nullable`) survive OAS 3.0's
 * "siblings of $ref are ignored"; a wrapper without siblings is just the reference. A `$ref`'d object also drops the
 * `type`/`additionalProperties` the plugin inferred from a loose TypeScript type (`Record<string, unknown>`).
 */
function tidyReferences(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(tidyReferences);
  const schema = node as Schema;
  for (const value of Object.values(schema)) tidyReferences(value);
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (!properties) return;
  for (const [key, property] of Object.entries(properties)) {
    const allOf = property.allOf as Schema[] | undefined;
    if (!allOf || allOf.length !== 1 || typeof allOf[0].$ref !== 'string') continue;
    delete property.additionalProperties;
    // OAS 3.0 reads `nullable` only beside a `type`: a nullable reference keeps the referenced schema's type.
    if (!property.nullable) delete property.type;
    if (Object.keys(property).length === 1) properties[key] = allOf[0];
  }
}

export function addSharedParts(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.parameters = {
    ...document.components.parameters,
    RequestId: {
      name: 'X-Request-ID',
      in: 'header',
      required: false,
      description: 'Caller-chosen request id (echoed back); generated when absent or malformed.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
    },
    CorrelationId: {
      name: 'X-Correlation-Id',
      in: 'header',
      required: false,
      description: 'Ties calls of one user action together (defaults to the request id); stored on audit events and jobs.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
    },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Makes the mutation safe to retry: the first outcome is replayed for 24 h (`X-Idempotency-Replayed: true`).',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
    },
  };
  document.components.headers = {
    ...document.components.headers,
    'X-Request-ID': { description: 'The request id (echoed or generated).', schema: { type: 'string' } },
    'X-RateLimit-Limit': { description: "Requests per minute allowed in this route's rate-limit class.", schema: { type: 'integer' } },
    'X-RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer' } },
    'X-RateLimit-Reset': { description: 'When the budget is back (Unix seconds).', schema: { type: 'integer' } },
    'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
    ETag: { description: 'Strong validator of the representation; send it back in `If-None-Match` to get 304.', schema: { type: 'string' } },
    'X-Idempotency-Replayed': { description: '`true` when this response is the stored outcome of an earlier call with the same Idempotency-Key.', schema: { type: 'string', enum: ['true'] } },
  };
  for (const [path, pathItem] of Object.entries(document.paths)) {
    const limited = !UNLIMITED_PATHS.has(path);
    for (const [method, op] of Object.entries(pathItem as Record<string, Operation>)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      // Routes without a declared scheme are public (`@Public()`): say so explicitly.
      op.security ??= [];
      describeCallbacks(op);
      const parameters = (op.parameters ??= []);
      for (const parameter of parameters) if (parameter.in === 'path') typePathParameter(path, parameter);
      parameters.push({ $ref: '#/components/parameters/RequestId' }, { $ref: '#/components/parameters/CorrelationId' });
      if (MUTATING.has(method)) {
        op.responses['400'] ??= errorResponse('Validation failed (`VALIDATION_FAILED`), with the fields named in `details`.');
        op.responses['413'] ??= errorResponse('The body is larger than 1 MiB.');
        op.responses['415'] ??= errorResponse('The body is not JSON.');
        if ((op as Record<string, unknown>)[IDEMPOTENCY_EXTENSION] !== 'ignored') {
          parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
          op.responses['422'] ??= errorResponse('`IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used with another request.');
          op.responses['409'] ??= errorResponse(
            '`IDEMPOTENCY_KEY_IN_USE`: a request with this Idempotency-Key is still in progress (retry after `Retry-After`); or `IDEMPOTENCY_REPLAY_UNAVAILABLE`: the first response showed a one-time secret and is not kept.',
          );
          op.responses['409'].headers = { 'Retry-After': { $ref: '#/components/headers/Retry-After' }, ...(op.responses['409'] as { headers?: Record<string, unknown> }).headers };
          // A completed 4xx outcome is stored and replayed too (not only 2xx).
          for (const [status, response] of Object.entries(op.responses) as [string, { headers?: Record<string, unknown> }][]) {
            if (/^[24]/.test(status)) response.headers = { 'X-Idempotency-Replayed': { $ref: '#/components/headers/X-Idempotency-Replayed' }, ...response.headers };
          }
        }
      }
      // A NUL character or broken percent-encoding in a path parameter or query value is a 400 on every route, probes too.
      op.responses['400'] ??= errorResponse('Validation failed (`VALIDATION_FAILED`): a parameter is invalid, or the URL holds a NUL or broken percent-encoding.');
      if (limited) {
        op.responses['429'] ??= {
          ...errorResponse("The rate limit of this route's class is exceeded (`RATE_LIMIT_EXCEEDED`); retry after `Retry-After` seconds."),
          headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' }, ...rateLimitHeaderRefs() },
        };
      }
      op.responses['500'] ??= errorResponse('Unexpected error (`INTERNAL_ERROR`); no internals are exposed.');
      op.responses['503'] ??= errorResponse('The database is unreachable (`STORAGE_UNAVAILABLE`) or this instance is shutting down (`SHUTTING_DOWN`); retry after `Retry-After` seconds.');
      op.responses['503'].headers = { 'Retry-After': { $ref: '#/components/headers/Retry-After' }, ...(op.responses['503'] as { headers?: Record<string, unknown> }).headers };
      for (const [status, response] of Object.entries(op.responses)) {
        // The error filter always answers JSON, whatever the success media type (`@ApiProduces`) of the route.
        // A route's own JSON body for an error status (the probes' 503 `ReadinessDto`) is what it sends: keep it.
        if (/^[45]/.test(status)) response.content = response.content?.['application/json']?.schema ? { 'application/json': response.content['application/json'] } : { 'application/json': { schema: ERROR_REF } };
        else if (!response.description) response.description = successDescription(status, response);
      }
      if ((op as Record<string, unknown>)[ETAG_EXTENSION]) {
        delete (op as Record<string, unknown>)[ETAG_EXTENSION];
        for (const [status, response] of Object.entries(op.responses)) {
          if (/^2|^304$/.test(status)) response.headers = { ETag: { $ref: '#/components/headers/ETag' }, ...response.headers };
        }
      }
      // The limit is counted before the handler runs, so its headers ride on every answer after that (errors too).
      if (limited) for (const response of Object.values(op.responses) as { headers?: Record<string, unknown> }[]) response.headers = { ...rateLimitHeaderRefs(), ...response.headers };
      for (const response of Object.values(op.responses) as { headers?: Record<string, unknown> }[]) {
        response.headers = { 'X-Request-ID': { $ref: '#/components/headers/X-Request-ID' }, ...response.headers };
      }
    }
  }
  tidyReferences(document.components.schemas);
  tidyReferences(document.paths);
  return document;
}

/**
 * `@ApiCallbacks` documents only the request body of a callback: say what the call is and what answers mean, so a
 * callback reads like any other operation (Countersign is the client here; the receiver's answers are not ErrorEnvelopes).
 */
function describeCallbacks(op: Operation & { callbacks?: Record<string, Record<string, Record<string, Operation & Record<string, unknown>>>>; tags?: string[] }): void {
  for (const [name, expressions] of Object.entries(op.callbacks ?? {})) {
    for (const pathItem of Object.values(expressions)) {
      for (const callback of Object.values(pathItem)) {
        const body = (callback.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.['application/json']?.schema?.$ref;
        const schemaName = typeof body === 'string' ? body.split('/').pop() : name;
        callback.summary ??= `Event delivery: ${name}`;
        callback.description ??= `Countersign POSTs a \`${schemaName}\` to the endpoint's \`url\`, with \`X-Countersign-Event\` (the event name), \`X-Countersign-Delivery\` (the delivery id) and \`X-Countersign-Signature\` (\`t=…,v1=…\`: HMAC-SHA256 with the signing secret).`;
        callback.tags ??= op.tags;
        callback.security ??= [];
        callback.responses['4XX'] ??= { description: 'A failed attempt: the delivery is retried with backoff until it expires.' };
      }
    }
  }
}

export const OPENAPI_JSON_PATH = '/openapi.json';

/**
 * `/openapi.json` (and `.yaml`) serve the document; `/docs` is Swagger UI, which fetches `/openapi.json` itself.
 * @nestjs/swagger would otherwise inline the document into `swagger-ui-init.js` with `String.replace`, which expands
 * `$\`` / `$'` / `$&` found in descriptions (our slug patterns end in `$`) and leaves a script that does not parse.
 */
export function mountOpenApi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    ui: false,
    raw: ['json', 'yaml'],
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    yamlDocumentUrl: 'openapi.yaml',
  });
  // The UI gets a placeholder document only (nothing from ours is inlined) and loads the real one by URL.
  const placeholder: OpenAPIObject = { openapi: document.openapi, info: { title: document.info.title, version: document.info.version }, paths: {} };
  SwaggerModule.setup('docs', app, placeholder, {
    raw: false,
    customSiteTitle: 'Countersign API',
    swaggerOptions: { url: OPENAPI_JSON_PATH, spec: null, persistAuthorization: true, displayRequestDuration: true },
  });
}
