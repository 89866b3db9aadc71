import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

const RESPONSE = Symbol('countersign.response');
const SIGNAL = Symbol('countersign.clientGone');

type Tracked = IncomingMessage & { [RESPONSE]?: ServerResponse; [SIGNAL]?: AbortSignal };

/**
 * Remembers each request's response, so that a route can ask for its "client disconnected" signal. The signal (an
 * AbortController and a `close` listener) is made only for the routes that ask — long-polls — not for every request.
 */
export function clientGoneMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  (req as Tracked)[RESPONSE] = res;
  next();
}

/** Aborts when the client disconnects before the response was sent (also if it already has). */
export function clientGoneSignal(req: IncomingMessage): AbortSignal {
  const tracked = req as Tracked;
  if (tracked[SIGNAL]) return tracked[SIGNAL];
  const controller = new AbortController();
  tracked[SIGNAL] = controller.signal;
  const res = tracked[RESPONSE];
  if (!res) return controller.signal;
  if (res.closed) {
    if (!res.writableEnded) controller.abort();
  } else {
    res.on('close', () => {
      if (!res.writableEnded) controller.abort();
    });
  }
  return controller.signal;
}

/** The request's "client disconnected" signal (long-polls stop waiting, and do not hand work to a gone client). */
export const ClientGone = createParamDecorator((_data: unknown, ctx: ExecutionContext): AbortSignal => {
  const req = ctx.switchToHttp().getRequest<IncomingMessage & { raw?: IncomingMessage }>();
  // Fastify hands handlers its own request object; the middleware saw the Node request behind it.
  return clientGoneSignal(req.raw ?? req);
});
