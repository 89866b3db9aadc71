import { INestApplication, NestInterceptor, Type } from '@nestjs/common';
import { INTERCEPTORS_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';

/** A global interceptor that knows, from a route's metadata alone, whether it ever has work on that route. */
export interface RouteScopedInterceptor extends NestInterceptor {
  appliesTo(handler: (...args: never[]) => unknown, controller: Type): boolean;
}

function isRouteScoped(interceptor: NestInterceptor): interceptor is RouteScopedInterceptor {
  return typeof (interceptor as Partial<RouteScopedInterceptor>).appliesTo === 'function';
}

/**
 * nestjs-cls registers an `APP_INTERCEPTOR` even when its interceptor is not mounted (we mount its middleware): a plain
 * object whose `intercept` is `(_, next) => next.handle()`. It never does anything, so no route gets it.
 */
function isPassThrough(interceptor: NestInterceptor): boolean {
  return Object.getPrototypeOf(interceptor) === Object.prototype && /^\(\s*_\w*\s*,\s*next\s*\)\s*=>\s*next\.handle\(\)$/.test(String(interceptor.intercept).trim());
}

type Handler = (...args: never[]) => unknown;

/**
 * The interceptors a controller or handler declared itself, before any scoping: test files build several apps from the
 * same classes, and each app must start from the declarations, not from the previous app's instances.
 */
const declared = new WeakMap<object, unknown[]>();
function declaredInterceptors(target: object): unknown[] {
  let list = declared.get(target);
  if (!list) {
    list = (Reflect.getMetadata(INTERCEPTORS_METADATA, target) as unknown[] | undefined) ?? [];
    declared.set(target, list);
  }
  return list;
}

/** Every route handler of every controller: the prototype methods carrying a route path. */
function routeHandlers(app: INestApplication): { controller: Type; handler: Handler }[] {
  const found: { controller: Type; handler: Handler }[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor') continue;
        const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (typeof handler === 'function' && Reflect.getMetadata(PATH_METADATA, handler) !== undefined) found.push({ controller, handler: handler as Handler });
      }
    }
  }
  return found;
}

/**
 * Nest runs every global interceptor on every route, and each one costs an `AsyncResource.bind`, an Observable and a
 * `mergeAll` per request even when it only calls `next.handle()` (idempotency on a GET, audit on a read). Before the
 * routes are built (`app.init()`), this moves the global interceptors onto the routes that can use them: a
 * {@link RouteScopedInterceptor} goes where `appliesTo` says, a pass-through nowhere, any other everywhere. A route
 * left with none skips the interceptor machinery entirely (Nest calls the handler directly). Order is kept: global
 * ones first, then the controller's, then the method's own (the controller's are folded into each method).
 */
export function scopeGlobalInterceptors(app: INestApplication): { routes: number; withoutInterceptors: number } {
  const config: unknown = Reflect.get(app, 'config');
  if (!(config instanceof ApplicationConfig)) return { routes: 0, withoutInterceptors: 0 };
  const globals = config.getGlobalInterceptors();
  const kept = globals.filter((i) => !isPassThrough(i));
  const handlers = routeHandlers(app);
  let withoutInterceptors = 0;
  const controllersWithOwn = new Set<Type>();
  for (const { controller, handler } of handlers) {
    const applicable = kept.filter((i) => !isRouteScoped(i) || i.appliesTo(handler, controller));
    const ofController = declaredInterceptors(controller);
    if (ofController.length) controllersWithOwn.add(controller);
    const ofMethod = declaredInterceptors(handler);
    const all = [...applicable, ...ofController, ...ofMethod];
    if (all.length === 0) withoutInterceptors++;
    Reflect.defineMetadata(INTERCEPTORS_METADATA, all, handler);
  }
  for (const controller of controllersWithOwn) Reflect.defineMetadata(INTERCEPTORS_METADATA, [], controller);
  globals.splice(0, globals.length);
  return { routes: handlers.length, withoutInterceptors };
}
