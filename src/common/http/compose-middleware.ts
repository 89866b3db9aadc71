/** A Connect-style middleware, as both adapters run them (Express directly, Fastify through @fastify/middie). */
export type Middleware<Req, Res> = (req: Req, res: Res, next: (error?: unknown) => void) => void;

/**
 * Runs `middleware` in order as a single middleware: each one's `next()` starts the following one, `next(error)` (or
 * a throw) skips the rest and hands the error on, and the last one's `next()` continues the adapter's chain.
 *
 * Mounted as one layer instead of one per function, because each router layer costs a path match and a closure per
 * request (the profile of `/healthz` in docs/performance.md).
 */
export function composeMiddleware<Req, Res>(middleware: readonly Middleware<Req, Res>[]): Middleware<Req, Res> {
  const chain = [...middleware];
  return (req, res, done) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) return done(error);
      const current = chain[index++];
      if (current === undefined) return done();
      try {
        current(req, res, step);
      } catch (thrown) {
        done(thrown);
      }
    };
    step();
  };
}
