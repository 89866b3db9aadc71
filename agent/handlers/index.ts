/**
 * Job type → handler. `secret.read`, `secret.patch` and `secret.rotate` plug in here; a type without a handler is
 * completed `failed` by the runner.
 */
import { discoveryHandler } from './discovery';
import { JobHandler } from './handler';

export function defaultHandlers(): Map<string, JobHandler> {
  return new Map<string, JobHandler>([['discovery.run', discoveryHandler]]);
}
