import type { Application } from 'express';

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/**
 * Knows which methods the registered routes accept for a path, so an unknown method on a known path can be 405
 * instead of 404. Built from Express's router after the application is initialised.
 */
export class RouteIndex {
  private layers: ExpressLayer[] = [];

  load(app: Application): void {
    const router = (app as unknown as { router?: { stack: ExpressLayer[] } }).router;
    // Wildcard routes are Nest's middleware mounts (`forRoutes('*')`), not handlers.
    this.layers = (router?.stack ?? []).filter((layer) => layer.route && !layer.route.path.includes('*'));
  }

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const layer of this.layers) {
      if (!layer.match(path)) continue;
      for (const [method, on] of Object.entries(layer.route!.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}
