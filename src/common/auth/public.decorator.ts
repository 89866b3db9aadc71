import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'countersign:public';

/** Marks a route (or controller) as reachable without credentials. Routes without it or `@Authenticated` are refused. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
