import { Writable } from 'node:stream';
import { ClsModule, ClsService } from 'nestjs-cls';
import { Test } from '@nestjs/testing';
import { RequestContextStore } from '../context/request-context';
import { createRootLogger } from './logger';
import { PinoNestLogger } from './nest-logger';

class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  }
}

describe('PinoNestLogger and the root logger', () => {
  let cls: ClsService<RequestContextStore>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ClsModule.forRoot({ global: true })] }).compile();
    cls = moduleRef.get(ClsService);
  });

  it("writes Nest's calls as one line each, with context, level and the error", () => {
    const out = new Lines();
    const logger = new PinoNestLogger(createRootLogger('trace', out));
    logger.log('started', 'Bootstrap');
    logger.warn({ queue: 3 }, 'Sweeper');
    const failure = new Error('boom');
    logger.error(failure, 'Sealer');
    logger.error('failed', failure.stack, 'Dispatcher');
    logger.verbose('detail');
    expect(out.lines.map((l) => [l.level, l.context, l.msg])).toEqual([
      ['info', 'Bootstrap', 'started'],
      ['warn', 'Sweeper', undefined],
      ['error', 'Sealer', 'boom'],
      ['error', 'Dispatcher', 'failed'],
      ['trace', undefined, 'detail'],
    ]);
    expect(out.lines[1].queue).toBe(3);
    expect((out.lines[2].err as { message: string }).message).toBe('boom');
    expect((out.lines[3].err as { stack: string }).stack).toContain('boom');
  });

  it('skips levels that are off', () => {
    const out = new Lines();
    const logger = new PinoNestLogger(createRootLogger('warn', out));
    logger.log('quiet');
    logger.debug('quiet');
    logger.warn('loud');
    expect(out.lines.map((l) => l.msg)).toEqual(['loud']);
  });

  it('adds the request and correlation ids to lines logged while serving a request, and only then', () => {
    const out = new Lines();
    const root = createRootLogger('info', out);
    root.info('outside');
    cls.run(() => {
      cls.set('requestId', 'req-00000001');
      cls.set('correlationId', 'corr-0000001');
      root.info('inside');
      // A line's own ids win over the context's (the access log names its request explicitly).
      root.info({ request_id: 'explicit-001' }, 'explicit');
    });
    expect(out.lines.map((l) => [l.msg, l.request_id, l.correlation_id])).toEqual([
      ['outside', undefined, undefined],
      ['inside', 'req-00000001', 'corr-0000001'],
      ['explicit', 'explicit-001', 'corr-0000001'],
    ]);
    expect(out.lines.filter((l) => Object.keys(l).filter((k) => k === 'request_id').length > 1)).toEqual([]);
  });
});
