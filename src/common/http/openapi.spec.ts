import { OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { addSharedParts, operationId } from './openapi';

/** The operation, or a failed test naming what is missing. */
function op(doc: OpenAPIObject, path: string, method: 'get' | 'post'): OperationObject {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  return found;
}

describe('openapi helpers', () => {
  it('names operations <Tag>_<verb>', () => expect(operationId('RequestsController', 'approve')).toBe('Requests_approve'));

  it('adds request-id headers everywhere and Idempotency-Key plus body errors on mutations', () => {
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: { '/x': { get: { responses: { '200': { description: 'ok' } } }, post: { responses: { '201': { description: 'made' } } } } },
    } as unknown as OpenAPIObject);
    const get = op(doc, '/x', 'get');
    const post = op(doc, '/x', 'post');
    expect(get.parameters).toEqual([{ $ref: '#/components/parameters/RequestId' }, { $ref: '#/components/parameters/CorrelationId' }]);
    expect(post.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '409', '413', '415', '422', '429', '500', '503']);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '400', '429', '500', '503']);
  });

  it('documents 429 and the X-RateLimit-* headers on limited operations, never on probes and /metrics', () => {
    const ok = () => ({ responses: { '200': { description: 'ok' } } });
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: { '/x': { get: ok() }, '/healthz': { get: ok() }, '/livez': { get: ok() }, '/readyz': { get: ok() }, '/metrics': { get: ok() } },
    } as unknown as OpenAPIObject);
    const limited = op(doc, '/x', 'get').responses as Record<string, { headers: Record<string, unknown> }>;
    expect(limited['429'].headers).toEqual(expect.objectContaining({ 'Retry-After': expect.anything(), 'X-RateLimit-Reset': expect.anything() }));
    expect(Object.keys(limited['200'].headers)).toEqual(expect.arrayContaining(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']));
    for (const probe of ['/healthz', '/livez', '/readyz', '/metrics']) {
      const responses = op(doc, probe, 'get').responses as Record<string, { headers: Record<string, unknown> }>;
      expect(Object.keys(responses).sort()).toEqual(['200', '400', '500', '503']);
      expect(Object.keys(responses['200'].headers)).toEqual(['X-Request-ID']);
    }
  });

  it('types every path parameter, with the id pattern and an example where the segment names an id kind', () => {
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/api/v1/agents/{id}/wraps/{wrap_id}': {
          get: { parameters: [{ name: 'id', in: 'path', required: true }, { name: 'wrap_id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } },
        },
        '/x/{name}': { get: { parameters: [{ name: 'name', in: 'path', required: true }], responses: { '200': { description: 'ok' } } } },
      },
    } as unknown as OpenAPIObject);
    const [agent, wrap] = op(doc, '/api/v1/agents/{id}/wraps/{wrap_id}', 'get').parameters as unknown as { schema: Record<string, unknown>; example?: string }[];
    expect(agent.schema).toEqual({ type: 'string', pattern: '^agt_[0-9A-HJKMNP-TV-Z]{26}$' });
    expect(agent.example).toMatch(/^agt_/);
    expect(wrap.schema.pattern).toBe('^wrp_[0-9A-HJKMNP-TV-Z]{26}$');
    expect(((op(doc, '/x/{name}', 'get').parameters ?? [])[0] as unknown as { schema: unknown }).schema).toEqual({ type: 'string' });
  });

  it('declares errors as JSON whatever the success media type, and describes success responses left without text', () => {
    const envelope = { $ref: '#/components/schemas/ErrorEnvelope' };
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/export': {
          get: {
            responses: {
              '200': { description: '', content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
              '403': { description: 'no', content: { 'application/x-ndjson': { schema: envelope } } },
            },
          },
        },
        '/thing': { post: { responses: { '201': { description: '', content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingDto' } } } }, '204': { description: '' } } } },
      },
    } as unknown as OpenAPIObject);
    const exportResponses = op(doc, '/export', 'get').responses as Record<string, { description: string; content: Record<string, unknown> }>;
    expect(Object.keys(exportResponses['200'].content)).toEqual(['application/x-ndjson']);
    expect(exportResponses['403'].content).toEqual({ 'application/json': { schema: envelope } });
    expect(exportResponses['200'].description).toBe('OK.');
    const thing = op(doc, '/thing', 'post').responses as Record<string, { description: string }>;
    expect(thing['201'].description).toBe('Created: a `ThingDto`.');
    expect(thing['204'].description).toBe('Done; no content.');
  });

  it('unwraps a sibling-less allOf reference and keeps the type beside nullable', () => {
    const ref = { $ref: '#/components/schemas/A' };
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {},
      components: {
        schemas: {
          A: { type: 'string', enum: ['a'] },
          B: {
            type: 'object',
            properties: {
              plain: { allOf: [ref] },
              described: { description: 'd', allOf: [ref] },
              nullable: { type: 'object', additionalProperties: true, nullable: true, allOf: [ref] },
            },
          },
        },
      },
    } as unknown as OpenAPIObject);
    const b = doc.components?.schemas?.B as { properties: Record<string, unknown> };
    expect(b.properties.plain).toEqual(ref);
    expect(b.properties.described).toEqual({ description: 'd', allOf: [ref] });
    expect(b.properties.nullable).toEqual({ type: 'object', nullable: true, allOf: [ref] });
  });
});
