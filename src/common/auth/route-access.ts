import { Injectable, OnApplicationBootstrap, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AUDITED, AuditedMetadata, describeAudit } from '../audit/audited.decorator';
import { AUTHENTICATED, AuthenticatedMetadata } from './authenticated.decorator';
import { IS_PUBLIC } from './public.decorator';

export interface RouteAccess {
  method: string;
  path: string;
  access: 'public' | 'authenticated' | 'undeclared';
  permission?: string;
  /** `'tenant'` when the permission must be held at tenant scope. */
  scope?: 'tenant';
  principals?: string[];
  /** Mutations only: the audit action(s) the route writes (`@Audited`), or `exempt: <reason>` (`@AuditExempt`). */
  audit?: string;
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const join = (...parts: (string | undefined)[]) =>
  '/' +
  parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter(Boolean)
    .join('/');

/** Every route with its access declaration; start-up fails if one declares nothing (never open by omission). */
@Injectable()
export class RouteAccessInventory implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  list(): RouteAccess[] {
    const routes: RouteAccess[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!controller || !wrapper.instance) continue;
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string | undefined;
      const prototype = Object.getPrototypeOf(wrapper.instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, (...args: unknown[]) => unknown>)[name];
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller]);
        const auth = this.reflector.getAllAndOverride<AuthenticatedMetadata>(AUTHENTICATED, [handler, controller]);
        const audit = MUTATIONS.has(method) ? (describeAudit(this.reflector.get<AuditedMetadata | undefined>(AUDITED, handler)) ?? 'undeclared') : undefined;
        for (const p of Array.isArray(path) ? path : [path]) {
          routes.push({
            method,
            path: join(base, p),
            access: isPublic ? 'public' : auth ? 'authenticated' : 'undeclared',
            ...(auth && !isPublic ? { permission: auth.permission, ...(auth.scope ? { scope: auth.scope } : {}), principals: auth.principals } : {}),
            ...(audit ? { audit } : {}),
          });
        }
      }
    }
    return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  }

  onApplicationBootstrap(): void {
    const undeclared = this.list().filter((r) => r.access === 'undeclared');
    if (undeclared.length > 0) {
      throw new Error(`Routes without @Public() or @Authenticated(): ${undeclared.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    }
    // A mutation that forgets its audit event would be silent: refuse to start, as for a missing access declaration.
    const unaudited = this.list().filter((r) => r.audit === 'undeclared');
    if (unaudited.length > 0) {
      throw new Error(`Mutation routes without @Audited(action) or @AuditExempt(reason): ${unaudited.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    }
  }
}
