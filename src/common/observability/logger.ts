import pino, { DestinationStream, Logger } from 'pino';
import { requestLogBindings } from '../context/request-context';
import { redactDeep } from './redact';

/**
 * The one pino instance: JSON lines, secrets redacted by path (headers) and by key name (anything else); a line logged
 * while serving a request carries its request and correlation ids.
 */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
    level,
    base: { service: 'countersign' },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    mixin: requestLogBindings,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'req.headers["x-agent-secret"]',
        'res.headers["set-cookie"]',
      ],
      censor: '[REDACTED]',
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    serializers: { err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
