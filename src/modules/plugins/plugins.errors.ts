import { AppError, ConflictError, FieldIssue, NotFoundError, ValidationFailedError } from '../../common/errors/app-error';

export class PluginNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('Plugin', id);
  }
}

export class PluginManifestInvalidError extends AppError {
  constructor(details: FieldIssue[]) {
    super(422, 'PLUGIN_MANIFEST_INVALID', 'The plugin manifest is invalid.', details);
  }
}

export class PluginKeyConflictError extends ConflictError {
  constructor(details: { key: string; clashes_with: string }[]) {
    super(`Plugin keys clash with ${[...new Set(details.map((d) => d.clashes_with))].join(', ')}: ${details.map((d) => d.key).join(', ')}.`, 'CONFLICT', details);
  }
}

export class PluginAlreadyInstalledError extends ConflictError {
  constructor(manifestId: string) {
    super(`Plugin ${manifestId} is already installed in this tenant.`);
  }
}

export class PluginInUseError extends ConflictError {
  constructor(inFlight: number) {
    super(`${inFlight} request(s) of this plugin's types are still in flight; let them finish (or cancel them) first.`, 'IN_USE', [{ in_flight_requests: inFlight }]);
  }
}

export class PluginDisabledError extends ConflictError {
  constructor(id: string) {
    super(`Plugin ${id} is disabled; enable it first.`);
  }
}

export class PluginSettingsInvalidError extends ValidationFailedError {
  constructor(details: FieldIssue[]) {
    super(details, 'The settings do not match the plugin’s settings_schema.');
  }
}

export class PluginSourceError extends ValidationFailedError {
  constructor(issue: string) {
    super([{ field: 'catalog_id', issue }]);
  }
}
