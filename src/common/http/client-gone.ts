import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { HttpNext, HttpRequest, HttpResponse } from './http-types';

type WithSignal = HttpRequest & { clientGone?: AbortSignal };

/** Gives every request an AbortSignal that fires when the client disconnects before the response was sent. */
export function clientGoneMiddleware(req: WithSignal, res: HttpResponse, next: HttpNext): void {
  const controller = new AbortController();
  req.clientGone = controller.signal;
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  next();
}

/** The request's "client disconnected" signal (long-polls stop waiting, and do not hand work to a gone client). */
export const ClientGone = createParamDecorator((_data: unknown, ctx: ExecutionContext): AbortSignal => {
  return ctx.switchToHttp().getRequest<WithSignal>().clientGone ?? new AbortController().signal;
});
