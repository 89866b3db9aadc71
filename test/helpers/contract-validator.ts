import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * Checks one HTTP response against the operation the OpenAPI document declares for it (the e2e contract check).
 *
 * Rules, so that "documented" means something a generated client can rely on:
 * - the status must be declared (exactly, as `4XX`, or as `default`); the media type must be one the response declares;
 * - a JSON body must match the declared schema (OpenAPI 3.0 → JSON Schema: `nullable` becomes a `null` type, component
 *   `$ref`s resolve into the document, `format`s are checked by ajv-formats, `discriminator` is left to its `oneOf`);
 * - DTO object schemas are closed: an object schema with `properties` and no `additionalProperties` accepts no other
 *   key (a free-form map declares `additionalProperties`);
 * - the headers a client acts on (`CONTRACT_HEADERS`) must be declared on the response when sent, and match their schema;
 * - non-JSON bodies (NDJSON/CSV export, metrics text, 204) are checked for status and media type only;
 * - a request that matches no documented operation must be answered with an `ErrorEnvelope`.
 */

/** Response headers that change what a client does: sending one the operation does not declare is a contract failure. */
export const CONTRACT_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
  'x-idempotency-replayed',
  'etag',
];

/** Served beside the API but not operations of the document (Swagger UI and the document itself). */
const META_PATH = /^\/(openapi\.(json|yaml)|docs(\/.*)?)$/;

export interface RecordedResponse {
  method: string;
  /** The raw request path (no query string), as the client sent it. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer;
}

export type Outcome =
  | { kind: 'validated'; operation: string }
  | { kind: 'non-json'; operation: string }
  | { kind: 'unmatched'; operation: string }
  | { kind: 'meta'; operation: string }
  | { kind: 'failed'; operation: string; problems: string[] };

type Json = Record<string, unknown>;
interface MediaType { schema?: Json }
interface HeaderObject { $ref?: string; required?: boolean; schema?: Json }
interface ResponseObject { $ref?: string; content?: Record<string, MediaType>; headers?: Record<string, HeaderObject> }
interface OperationObject { operationId?: string; responses: Record<string, ResponseObject> }
interface Route { template: string; regex: RegExp; params: number; operations: Record<string, OperationObject> }

const DOC_ID = 'openapi';
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/** OpenAPI 3.0 schema object → JSON Schema (draft-07, as ajv reads it). Pure; returns a new object. */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const source = schema as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'nullable' || key === 'discriminator' || key === 'example' || key === 'xml' || key === 'externalDocs') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/')) out.$ref = `${DOC_ID}${value}`;
    else if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value as Json).map(([name, s]) => [name, toJsonSchema(s)]));
    } else out[key] = toJsonSchema(value);
  }
  // OpenAPI 3.0 booleans for exclusive bounds → draft-07 numbers.
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof source[flag] === 'boolean') {
      delete out[flag];
      if (source[flag] === true && typeof source[bound] === 'number') {
        out[flag] = source[bound];
        delete out[bound];
      }
    }
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (source.nullable === true) {
    // `nullable` beside a composition (`allOf: [$ref]`, how @nestjs/swagger writes a nullable DTO) means "null, or that".
    const composed = ['$ref', 'allOf', 'oneOf', 'anyOf'].some((k) => k in source);
    if (typeof out.type === 'string' && !composed) {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else {
      const { description, ...rest } = out;
      return { ...(description === undefined ? {} : { description }), anyOf: [rest, { type: 'null' }] };
    }
  }
  return out;
}

function templateRegex(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}/?$`);
}

function mediaBase(value: string | undefined): string {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

const isJsonMedia = (media: string) => media === 'application/json' || media.endsWith('+json');

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 8).map((e) => {
    const where = e.instancePath || '(root)';
    const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
      : e.keyword === 'enum' ? ` ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}` : '';
    return `${where} ${e.message}${extra}`;
  });
}

export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenAPIObject) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, logger: false });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: DOC_ID, components: toJsonSchema(document.components ?? {}) });
    this.routes = Object.entries(document.paths)
      .map(([template, item]) => ({
        template,
        regex: templateRegex(template),
        params: (template.match(/\{/g) ?? []).length,
        operations: Object.fromEntries(Object.entries(item as Json).filter(([m]) => HTTP_METHODS.has(m))) as Record<string, OperationObject>,
      }))
      // A literal segment wins over a parameter (`/agents/enroll` before `/agents/{id}`).
      .sort((a, b) => a.params - b.params || b.template.length - a.template.length);
  }

  check(res: RecordedResponse): Outcome {
    const method = res.method.toLowerCase();
    const route = this.routes.find((r) => r.regex.test(res.path));
    // HEAD is served by the GET route (no body).
    const op = route?.operations[method] ?? (method === 'head' ? route?.operations.get : undefined);
    if (!route || !op) {
      if (META_PATH.test(res.path) && res.status < 400) return { kind: 'meta', operation: `${res.method} ${res.path}` };
      return this.checkUnmatched(res);
    }
    const operation = `${res.method} ${route.template}${op.operationId ? ` (${op.operationId})` : ''}`;
    const problems: string[] = [];
    const declared = op.responses[String(res.status)] ?? op.responses[`${String(res.status)[0]}XX`] ?? op.responses.default;
    if (!declared) return { kind: 'failed', operation, problems: [`status ${res.status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`] };
    const response = this.resolve<ResponseObject>(declared);
    problems.push(...this.checkHeaders(res, response));

    const contentType = res.headers['content-type'];
    const media = mediaBase(typeof contentType === 'string' ? contentType : undefined);
    const content = response.content ?? {};
    const hasBody = res.body.length > 0 && method !== 'head';
    if (!hasBody) {
      if (Object.keys(content).length > 0 && method !== 'head' && res.status !== 304) problems.push(`empty body, but the response declares ${Object.keys(content).join(', ')}`);
      return problems.length ? { kind: 'failed', operation, problems } : { kind: 'non-json', operation };
    }
    const declaredMedia = Object.keys(content).find((m) => mediaBase(m) === media);
    if (!declaredMedia) {
      problems.push(`content type '${media || '(none)'}' is not declared (declared: ${Object.keys(content).join(', ') || 'no body'})`);
      return { kind: 'failed', operation, problems };
    }
    if (!isJsonMedia(media)) return problems.length ? { kind: 'failed', operation, problems } : { kind: 'non-json', operation };

    const schema = content[declaredMedia].schema;
    if (!schema) problems.push(`no schema declared for ${declaredMedia}`);
    else problems.push(...this.validateBody(`${method} ${route.template} ${res.status}`, schema, res.body));
    return problems.length ? { kind: 'failed', operation, problems } : { kind: 'validated', operation };
  }

  private checkUnmatched(res: RecordedResponse): Outcome {
    const operation = `${res.method} ${res.path} (no documented operation)`;
    const contentType = res.headers['content-type'];
    const media = mediaBase(typeof contentType === 'string' ? contentType : undefined);
    if (res.method.toUpperCase() === 'HEAD' && res.body.length === 0) return { kind: 'unmatched', operation };
    if (!isJsonMedia(media)) return { kind: 'failed', operation, problems: [`status ${res.status} with content type '${media || '(none)'}', expected an ErrorEnvelope`] };
    const problems = this.validateBody('ErrorEnvelope', { $ref: '#/components/schemas/ErrorEnvelope' }, res.body);
    if (res.status < 400) problems.unshift(`status ${res.status} for a request no operation documents`);
    return problems.length ? { kind: 'failed', operation, problems } : { kind: 'unmatched', operation };
  }

  private checkHeaders(res: RecordedResponse, response: ResponseObject): string[] {
    const problems: string[] = [];
    const declared = new Map(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), this.resolve<HeaderObject>(h)]));
    for (const name of CONTRACT_HEADERS) {
      if (res.headers[name] !== undefined && !declared.has(name)) problems.push(`header ${name} is sent but not declared`);
    }
    for (const [name, header] of declared) {
      const raw = res.headers[name];
      if (raw === undefined) {
        if (header.required) problems.push(`required header ${name} is missing`);
        continue;
      }
      if (!header.schema) continue;
      const text = Array.isArray(raw) ? raw.join(', ') : String(raw);
      const type = (this.resolve<Json>(header.schema)).type;
      const value = (type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
      const validate = this.compile(`header ${name}`, header.schema);
      if (!validate(value)) problems.push(...formatErrors(validate.errors).map((e) => `header ${name}: ${e.replace('(root) ', '')}`));
    }
    return problems;
  }

  private validateBody(key: string, schema: Json, body: Buffer): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return ['the body is not valid JSON'];
    }
    const validate = this.compile(key, schema);
    return validate(parsed) ? [] : formatErrors(validate.errors).map((e) => `body ${e}`);
  }

  private compile(key: string, schema: Json): ValidateFunction {
    const cacheKey = `${key} ${JSON.stringify(schema)}`;
    let fn = this.compiled.get(cacheKey);
    if (!fn) {
      fn = this.ajv.compile(toJsonSchema(schema) as Json);
      this.compiled.set(cacheKey, fn);
    }
    return fn;
  }

  /** Follows a `#/components/...` reference inside the document (responses and headers may be refs). */
  private resolve<T>(value: T & { $ref?: string }): T {
    let current: unknown = value;
    for (let depth = 0; depth < 10 && current && typeof current === 'object' && typeof (current as { $ref?: unknown }).$ref === 'string'; depth++) {
      const ref = (current as { $ref: string }).$ref;
      current = ref.replace(/^#\//, '').split('/').reduce<unknown>((node, part) => (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], this.document);
    }
    return current as T;
  }
}
