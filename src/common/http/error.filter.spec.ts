import { ArgumentsHost, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ErrorFilter } from './error.filter';
import { RouteIndex } from './route-index';

interface Reply {
  status: number;
  body: { error: { code: string; message: string; details: unknown; request_id: string } };
}

/** Renders one exception through the filter with a fake adapter and returns what it replied. */
async function render(exception: unknown): Promise<Reply> {
  let reply: Reply | undefined;
  const adapterHost = { httpAdapter: { setHeader: () => undefined, reply: (_res: unknown, body: Reply['body'], status: number) => (reply = { status, body }) } };
  const req = { id: 'req-1', method: 'POST', path: '/api/v1/workspaces' };
  const res = { headersSent: false };
  const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as unknown as ArgumentsHost;
  new ErrorFilter(adapterHost as unknown as HttpAdapterHost, new RouteIndex()).catch(exception, host);
  for (let i = 0; i < 10 && !reply; i++) await new Promise((r) => setImmediate(r));
  return reply!;
}

describe('ErrorFilter: values PostgreSQL refuses are the client’s 400, not a 500', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it.each([
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
    ['22P05', 'unsupported Unicode escape sequence'],
    ['22P02', 'invalid input syntax for type integer: "x"'],
  ])('SQLSTATE %s (wrapped as TypeORM does) → 400 VALIDATION_FAILED', async (code, message) => {
    const queryFailed = Object.assign(new Error(message), { name: 'QueryFailedError', driverError: { code, message } });
    const reply = await render(queryFailed);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'VALIDATION_FAILED', request_id: 'req-1' });
    expect(reply.body.error.message).not.toContain(message); // no database text leaks
  });

  it('other database errors stay 500 INTERNAL_ERROR', async () => {
    const reply = await render(Object.assign(new Error('boom'), { driverError: { code: '42P01' } }));
    expect(reply).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL_ERROR' } } });
  });
});
