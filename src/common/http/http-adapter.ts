import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { FastifyAdapter as FastifyAdapterClass } from '@nestjs/platform-fastify';
import { AppConfig } from '../../config/app-config';
import { acceptedId } from '../context/request-context';
import { BODY_LIMIT_BYTES } from './body-parsing';
import { fastifyFrameworkError } from './configure-fastify';

/** `TRUST_PROXY`: a hop count, or addresses/subnets (`loopback, 10.0.0.0/8`); unset: never trusted. */
export function trustProxySetting(value: string | undefined): boolean | number | string {
  if (!value) return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** The request id rule of both adapters: a well-formed `X-Request-ID` is kept, anything else replaced by a UUID. */
export function requestIdOf(req: Pick<IncomingMessage, 'headers'>): string {
  return acceptedId(req.headers['x-request-id']) ?? randomUUID();
}

/** The HTTP adapter `HTTP_ADAPTER` names, for `NestFactory.create` (main.ts) and the test harness. */
export function createHttpAdapter(config: Pick<AppConfig, 'httpAdapter' | 'trustProxy'>): AbstractHttpAdapter {
  if (config.httpAdapter !== 'fastify') return new ExpressAdapter();
  // Loaded only when chosen: an Express server does not carry Fastify and its plugins in memory.
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as { FastifyAdapter: typeof FastifyAdapterClass };
  return new FastifyAdapter({
    // Our request id is Fastify's: the error filter, the access log and the middleware all read `req.id`.
    genReqId: (req: Pick<IncomingMessage, 'headers'>) => requestIdOf(req),
    trustProxy: trustProxySetting(config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    // Express's routing defaults: `/path/` is `/path`.
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify's own logger stays off: the access log middleware writes the one line per request.
    logger: false,
    // A URL Fastify cannot decode never reaches the middleware: answered in our envelope all the same.
    frameworkErrors: fastifyFrameworkError,
  });
}
