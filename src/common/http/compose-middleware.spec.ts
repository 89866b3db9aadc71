import { composeMiddleware, Middleware } from './compose-middleware';

type Req = { seen: string[] };
const step = (name: string): Middleware<Req, unknown> => (req, _res, next) => {
  req.seen.push(name);
  next();
};

describe('composeMiddleware', () => {
  it('runs each middleware in order, then continues the chain once', () => {
    const req: Req = { seen: [] };
    const done = jest.fn();
    composeMiddleware([step('a'), step('b'), step('c')])(req, {}, done);
    expect(req.seen).toEqual(['a', 'b', 'c']);
    expect(done).toHaveBeenCalledTimes(1);
    expect(done).toHaveBeenCalledWith();
  });

  it('waits for a middleware that calls next later', async () => {
    const req: Req = { seen: [] };
    const later: Middleware<Req, unknown> = (r, _res, next) => {
      setImmediate(() => {
        r.seen.push('later');
        next();
      });
    };
    await new Promise<void>((resolve) => composeMiddleware([step('a'), later, step('b')])(req, {}, () => resolve()));
    expect(req.seen).toEqual(['a', 'later', 'b']);
  });

  it('skips the rest on next(error) and on a throw, handing the error on', () => {
    const failure = new Error('refused');
    for (const failing of [
      ((_req, _res, next) => next(failure)) as Middleware<Req, unknown>,
      (() => {
        throw failure;
      }) as Middleware<Req, unknown>,
    ]) {
      const req: Req = { seen: [] };
      const done = jest.fn();
      composeMiddleware([step('a'), failing, step('b')])(req, {}, done);
      expect(req.seen).toEqual(['a']);
      expect(done).toHaveBeenCalledTimes(1);
      expect(done).toHaveBeenCalledWith(failure);
    }
  });

  it('is reusable: each request starts at the first middleware', () => {
    const run = composeMiddleware([step('a'), step('b')]);
    for (let i = 0; i < 3; i++) {
      const req: Req = { seen: [] };
      run(req, {}, () => undefined);
      expect(req.seen).toEqual(['a', 'b']);
    }
  });
});
