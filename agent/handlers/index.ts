/** Job type → handler. A type without a handler is completed `failed` by the runner. */
import { discoveryHandler } from './discovery';
import { JobHandler } from './handler';
import { secretPatchHandler, secretReadHandler, secretRotateHandler } from './secrets';

export function defaultHandlers(): Map<string, JobHandler> {
  return new Map<string, JobHandler>([
    ['discovery.run', discoveryHandler],
    ['secret.read', secretReadHandler],
    ['secret.patch', secretPatchHandler],
    ['secret.rotate', secretRotateHandler],
  ]);
}
