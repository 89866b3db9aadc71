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
    expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '413', '415', '500']);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '500']);
  });
});
