import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorEnvelope } from '../errors/error-envelope.dto';
import { IDEMPOTENCY_EXTENSION } from './idempotency.decorator';

type Operation = { parameters?: unknown[]; responses: Record<string, unknown>; security?: unknown[] };
const MUTATING = new Set(['post', 'put', 'patch', 'delete']);
const ERROR_REF = { $ref: '#/components/schemas/ErrorEnvelope' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_REF } } });
/** Probes and meta routes are never rate limited (SPEC §1); `/openapi.json` and `/docs` are not operations of the document. */
const UNLIMITED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics', '/openapi.json', '/docs']);
const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
const rateLimitHeaderRefs = () => Object.fromEntries(RATE_LIMIT_HEADERS.map((h) => [h, { $ref: `#/components/headers/${h}` }]));

/** `<Tag>_<verb>`: the controller's name without its suffix, then the handler's name. Stable across releases. */
export function operationId(controllerKey: string, methodKey: string): string {
  return `${controllerKey.replace(/Controller$/, '')}_${methodKey}`;
}

/**
 * Builds the OpenAPI document from the code (the swagger CLI plugin documents DTOs), then adds what every
 * operation shares: request-id headers, the Idempotency-Key header on mutations, the error envelope, and the rate-limit
 * headers and 429 on every limited operation.
 */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Countersign API')
    .setDescription(
      'Governed access: requests, policies, approvals, agents and single-use wraps. Errors always use the `ErrorEnvelope` shape.',
    )
    .setVersion(version)
    .setLicense('Proprietary', 'https://countersign.invalid/license')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'User access token, or an API key `csk_…`.' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key `csk_…`.' }, 'api_key')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Agent-Secret', description: 'Agent secret, on /api/v1/agents/:id/… routes.' }, 'agent_secret')
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: operationId, extraModels: [ErrorEnvelope] });
  return addSharedParts(document);
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
    'X-Idempotency-Replayed': { description: '`true` when this response is the stored outcome of an earlier call with the same Idempotency-Key.', schema: { type: 'string', enum: ['true'] } },
  };
  for (const [path, pathItem] of Object.entries(document.paths)) {
    const limited = !UNLIMITED_PATHS.has(path);
    for (const [method, op] of Object.entries(pathItem as Record<string, Operation>)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      // Routes without a declared scheme are public (`@Public()`): say so explicitly.
      op.security ??= [];
      const parameters = (op.parameters ??= []);
      // A NUL character or broken percent-encoding in a path parameter or query value is a 400 on every route.
      const takesInput = parameters.some((p) => ['path', 'query'].includes((p as { in?: string }).in ?? ''));
      parameters.push({ $ref: '#/components/parameters/RequestId' }, { $ref: '#/components/parameters/CorrelationId' });
      if (MUTATING.has(method)) {
        op.responses['400'] ??= errorResponse('Validation failed (`VALIDATION_FAILED`), with the fields named in `details`.');
        op.responses['413'] ??= errorResponse('The body is larger than 1 MiB.');
        op.responses['415'] ??= errorResponse('The body is not JSON.');
        if ((op as Record<string, unknown>)[IDEMPOTENCY_EXTENSION] !== 'ignored') {
          parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
          op.responses['422'] ??= errorResponse('`IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used with another request.');
          // A completed 4xx outcome is stored and replayed too (not only 2xx).
          for (const [status, response] of Object.entries(op.responses) as [string, { headers?: Record<string, unknown> }][]) {
            if (/^[24]/.test(status)) response.headers = { 'X-Idempotency-Replayed': { $ref: '#/components/headers/X-Idempotency-Replayed' }, ...response.headers };
          }
        }
      }
      if (takesInput) op.responses['400'] ??= errorResponse('Validation failed (`VALIDATION_FAILED`), with the fields named in `details`.');
      if (limited) {
        op.responses['429'] ??= {
          ...errorResponse("The rate limit of this route's class is exceeded (`RATE_LIMIT_EXCEEDED`); retry after `Retry-After` seconds."),
          headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' }, ...rateLimitHeaderRefs() },
        };
      }
      op.responses['500'] ??= errorResponse('Unexpected error (`INTERNAL_ERROR`); no internals are exposed.');
      // The limit is counted before the handler runs, so its headers ride on every answer after that (errors too).
      if (limited) for (const response of Object.values(op.responses) as { headers?: Record<string, unknown> }[]) response.headers = { ...rateLimitHeaderRefs(), ...response.headers };
      for (const response of Object.values(op.responses) as { headers?: Record<string, unknown> }[]) {
        response.headers = { 'X-Request-ID': { $ref: '#/components/headers/X-Request-ID' }, ...response.headers };
      }
    }
  }
  return document;
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
