import type { NextFunction, Request, Response } from 'express';

/** Express types stay inside common/http so that another adapter can be offered without touching modules. */
export type HttpRequest = Request & { id: string; correlationId: string };
export type HttpResponse = Response;
export type HttpNext = NextFunction;
