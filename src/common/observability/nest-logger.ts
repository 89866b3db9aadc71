import { LoggerService } from '@nestjs/common';
import { Level, Logger } from 'pino';

type Params = unknown[];

/**
 * Nest's logger (its own lines and every `new Logger(Context)` in the app) written to the root pino logger as one JSON
 * line each: `context` set, an `Error` as `err`, an object merged into the line. Inside a request the root logger's
 * mixin adds the request and correlation ids (observability/logger.ts), so no per-request child logger is made.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: Params): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: Params): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: Params): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: Params): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: Params): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: Params): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: Params): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const rest = [...params];
    // Nest passes the context last (`logger.error(message, stack, context)`); a string there is the context.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const line: Record<string, unknown> = context === undefined ? {} : { context };
    const stack = rest.find((p): p is string => typeof p === 'string' && p.includes('\n    at '));
    const error = rest.find((p): p is Error => p instanceof Error);
    if (error) line.err = error;
    else if (stack) line.err = { stack };
    if (message instanceof Error) {
      this.logger[level]({ ...line, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...(message as Record<string, unknown>), ...line });
    } else {
      this.logger[level](line, String(message));
    }
  }
}
