import type { Application } from 'express';

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/** A layer that handles a route (middleware layers have none). */
type RouteLayer = ExpressLayer & { route: NonNullable<ExpressLayer['route']> };

/**
 * Knows the registered routes, built from Express's router after the application is initialised: which methods a path
 * accepts (an unknown method on a known path is 405, not 404), and which route template a path belongs to when the
 * answer came before Express matched a route (body parsing, input checks), so logs and metrics still name the route.
 */
export class RouteIndex {
  private layers: RouteLayer[] = [];
  private paths: string[] = [];

  load(app: Application): void {
    // Express 5 keeps its router on `app.router`, which its Application type does not declare.
    const router: unknown = Reflect.get(app, 'router');
    // The router is a function with a `stack` (router package), so not only objects are looked into.
    const stack: unknown = (typeof router === 'function' || typeof router === 'object') && router !== null ? Reflect.get(router, 'stack') : undefined;
    // Wildcard routes are Nest's middleware mounts (`forRoutes('*')`), not handlers.
    this.layers = (Array.isArray(stack) ? stack : []).filter((layer: ExpressLayer): layer is RouteLayer => layer.route !== undefined && !layer.route.path.includes('*'));
    this.paths = [...new Set(this.layers.map((layer) => layer.route.path))];
  }

  /** Every route template (`/api/v1/workspaces/:id`), in registration order. */
  templates(): readonly string[] {
    return this.paths;
  }

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const layer of this.layers) {
      if (!matches(layer, path)) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  /** The template of the route serving `method path`, else of any route on that path (a 405), else undefined (a 404). */
  templateFor(method: string, path: string): string | undefined {
    const verb = method.toLowerCase();
    let anyMethod: string | undefined;
    for (const layer of this.layers) {
      if (!matches(layer, path)) continue;
      const methods = layer.route.methods;
      if (methods[verb] || methods._all || (verb === 'head' && methods.get)) return layer.route.path;
      anyMethod ??= layer.route.path;
    }
    return anyMethod;
  }
}

/** A path whose parameters cannot be percent-decoded still has the shape of a route: match it with `%` taken literally. */
function matches(layer: ExpressLayer, path: string): boolean {
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
