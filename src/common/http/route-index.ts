import type { Application } from 'express';

/** One registered route: its template (`/api/v1/requests/:id`), its methods (upper case, `ALL` for any) and a matcher. */
export interface RouteEntry {
  path: string;
  methods: ReadonlySet<string>;
  match(path: string): boolean;
}

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/** A layer that handles a route (middleware layers have none). */
type RouteLayer = ExpressLayer & { route: NonNullable<ExpressLayer['route']> };

/** The routes of an Express 5 application, read from its router after `app.init()`. */
export function expressRouteEntries(app: Application): RouteEntry[] {
  // Express 5 keeps its router on `app.router`, which its Application type does not declare.
  const router: unknown = Reflect.get(app, 'router');
  // The router is a function with a `stack` (router package), so not only objects are looked into.
  const stack: unknown = (typeof router === 'function' || typeof router === 'object') && router !== null ? Reflect.get(router, 'stack') : undefined;
  // Wildcard routes are Nest's middleware mounts (`forRoutes('*')`), not handlers.
  const layers = (Array.isArray(stack) ? stack : []).filter((layer: ExpressLayer): layer is RouteLayer => layer.route !== undefined && !layer.route.path.includes('*'));
  return layers.map((layer) => ({
    path: layer.route.path,
    methods: new Set(Object.entries(layer.route.methods).filter(([, on]) => on).map(([m]) => (m === '_all' ? 'ALL' : m.toUpperCase()))),
    match: (path: string) => matchesLayer(layer, path),
  }));
}

/** A path whose parameters cannot be percent-decoded still has the shape of a route: match it with `%` taken literally. */
function matchesLayer(layer: ExpressLayer, path: string): boolean {
  try {
    return Boolean(layer.match(path));
  } catch {
    try {
      return Boolean(layer.match(path.replace(/%/g, '%25')));
    } catch {
      return false;
    }
  }
}

/**
 * A matcher for a template of plain segments and `:name` parameters (what Nest registers on Fastify), with Express's
 * defaults: one parameter is one non-empty segment, a trailing slash is allowed, case-insensitive.
 */
export function templateMatcher(template: string): (path: string) => boolean {
  const pattern = template
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  const regex = new RegExp(`^${pattern}/?$`, 'i');
  return (path) => regex.test(path);
}

/**
 * Knows the registered routes, built from the adapter's router after the application is initialised: which methods a
 * path accepts (an unknown method on a known path is 405, not 404), and which route template a path belongs to when
 * the answer came before the router matched a route (body parsing, input checks), so logs and metrics still name it.
 */
export class RouteIndex {
  private entries: RouteEntry[] = [];
  private paths: string[] = [];

  load(entries: RouteEntry[]): void {
    this.entries = entries;
    this.paths = [...new Set(entries.map((e) => e.path))];
  }

  /** Every route template (`/api/v1/workspaces/:id`), in registration order. */
  templates(): readonly string[] {
    return this.paths;
  }

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const entry of this.entries) {
      if (!entry.match(path)) continue;
      for (const method of entry.methods) if (method !== 'ALL') methods.add(method);
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  /** The template of the route serving `method path`, else of any route on that path (a 405), else undefined (a 404). */
  templateFor(method: string, path: string): string | undefined {
    const verb = method.toUpperCase();
    let anyMethod: string | undefined;
    for (const entry of this.entries) {
      if (!entry.match(path)) continue;
      const methods = entry.methods;
      if (methods.has(verb) || methods.has('ALL') || (verb === 'HEAD' && methods.has('GET'))) return entry.path;
      anyMethod ??= entry.path;
    }
    return anyMethod;
  }
}
