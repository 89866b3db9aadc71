import { RouteAccessInventory } from '../../src/common/auth/route-access';
import { createTestApp, TestApp } from '../helpers/test-app';

/** The access rule of every route. A snapshot change is a permission change: review it as one. */
describe('route permissions (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('every route declares @Public() or @Authenticated(), and the table matches the reviewed snapshot', () => {
    const routes = t.app.get(RouteAccessInventory).list();
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.filter((r) => r.access === 'undeclared')).toEqual([]);
    expect(routes).toMatchSnapshot();
  });
});
