/** Job type → handler. A type without a handler is completed `failed` by the runner. */
import { ExecEntry } from '../config-file';
import { discoveryHandler } from './discovery';
import { execHandler } from './exec';
import { JobHandler } from './handler';
import { secretPatchHandler, secretReadHandler, secretRotateHandler } from './secrets';

/**
 * The file provider's jobs when the agent serves a `--dir`, plus one handler per configured `exec` job type (which
 * also runs its rollbacks). The config file refuses exec entries for the built-in types, so nothing is overridden.
 */
export function defaultHandlers(options: { files?: boolean; exec?: ExecEntry[] } = {}): Map<string, JobHandler> {
  const handlers = new Map<string, JobHandler>();
  if (options.files ?? true) {
    handlers.set('discovery.run', discoveryHandler);
    handlers.set('secret.read', secretReadHandler);
    handlers.set('secret.patch', secretPatchHandler);
    handlers.set('secret.rotate', secretRotateHandler);
  }
  for (const entry of options.exec ?? []) handlers.set(entry.type, execHandler(entry));
  return handlers;
}
