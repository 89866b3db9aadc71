import { OpenAPIObject } from '@nestjs/swagger';
import { addSharedParts, operationId } from './openapi';

describe('openapi helpers', () => {
  it('names operations <Tag>_<verb>', () => expect(operationId('RequestsController', 'approve')).toBe('Requests_approve'));

  it('adds request-id headers everywhere and Idempotency-Key plus body errors on mutations', () => {
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: { '/x': { get: { responses: { '200': { description: 'ok' } } }, post: { responses: { '201': { description: 'made' } } } } },
    } as unknown as OpenAPIObject);
    const get = doc.paths['/x'].get!;
    const post = doc.paths['/x'].post!;
    expect(get.parameters).toEqual([{ $ref: '#/components/parameters/RequestId' }, { $ref: '#/components/parameters/CorrelationId' }]);
    expect(post.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '413', '415', '422', '429', '500']);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '429', '500']);
  });

  it('documents 429 and the X-RateLimit-* headers on limited operations, never on probes and /metrics', () => {
    const ok = () => ({ responses: { '200': { description: 'ok' } } });
    const doc = addSharedParts({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: { '/x': { get: ok() }, '/healthz': { get: ok() }, '/livez': { get: ok() }, '/readyz': { get: ok() }, '/metrics': { get: ok() } },
    } as unknown as OpenAPIObject);
    const limited = doc.paths['/x'].get!.responses as Record<string, { headers: Record<string, unknown> }>;
    expect(limited['429'].headers).toEqual(expect.objectContaining({ 'Retry-After': expect.anything(), 'X-RateLimit-Reset': expect.anything() }));
    expect(Object.keys(limited['200'].headers)).toEqual(expect.arrayContaining(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']));
    for (const probe of ['/healthz', '/livez', '/readyz', '/metrics']) {
      const responses = doc.paths[probe].get!.responses as Record<string, { headers: Record<string, unknown> }>;
      expect(Object.keys(responses).sort()).toEqual(['200', '500']);
      expect(Object.keys(responses['200'].headers)).toEqual(['X-Request-ID']);
    }
  });
});
