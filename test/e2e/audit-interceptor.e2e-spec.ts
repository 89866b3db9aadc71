import { Controller, Module, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AUDITED, Audited, AuditExempt } from '../../src/common/audit/audited.decorator';
import { Public } from '../../src/common/auth/public.decorator';
import { RouteAccessInventory } from '../../src/common/auth/route-access';
import { ConflictError } from '../../src/common/errors/app-error';
import { ErrorEnvelope } from '../../src/common/errors/error-envelope.dto';
import { WorkspacesController } from '../../src/modules/workspaces/workspaces.controller';
import { auth, setupPlatform } from '../helpers/identity';
import { createTestApp, TestApp } from '../helpers/test-app';

// Issue 12 §6: the audit interceptor owns the guarantee that every mutation route writes its event.

/** Routes whose handlers record nothing themselves, so only the interceptor can write their events. */
@Public()
@Controller('api/v1/fixtures/audit')
class AuditFixtureController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Post('plain/:id')
  @Audited('webhook.tested')
  @ApiCreatedResponse({ description: 'Done.', schema: { type: 'object', required: ['id', 'ok'], properties: { id: { type: 'string' }, ok: { type: 'boolean' } } } })
  plain(@Param('id') id: string) {
    return { id, ok: true };
  }

  @Post('failing/:id')
  @Audited('webhook.tested')
  @ApiConflictResponse({ description: 'Always refused.', type: ErrorEnvelope })
  failing(@Param('id') id: string): never {
    throw new ConflictError(`fixture ${id} refused`);
  }

  @Post('exempt/:id')
  @AuditExempt('fixture: writes nothing')
  @ApiCreatedResponse({ description: 'Done.', schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } })
  exempt(@Param('id') id: string) {
    return { id };
  }
}

@Module({ controllers: [AuditFixtureController] })
class AuditFixtureModule {}

describe('audit interceptor (e2e)', () => {
  let t: TestApp;
  let token: string;

  const events = async (where: string, params: unknown[]) => {
    const c = await t.db.client();
    try {
      return (await c.query<{ action: string; resource_type: string; resource_id: string | null; payload: Record<string, unknown> }>(
        `SELECT action, resource_type, resource_id, payload FROM audit_events WHERE ${where} ORDER BY occurred_at`,
        params,
      )).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    t = await createTestApp({ imports: [AuditFixtureModule] });
    token = (await setupPlatform(t)).token;
  });
  afterAll(() => t.close());

  it('writes the route event from metadata and result when the handler recorded none', async () => {
    const res = await request(t.http).post('/api/v1/fixtures/audit/plain/fx_one').send({});
    expect(res.status).toBe(201);
    const rows = await events('resource_id = $1', ['fx_one']);
    expect(rows).toEqual([{ action: 'webhook.tested', resource_type: 'webhook', resource_id: 'fx_one', payload: { route: 'POST /api/v1/fixtures/audit/plain/:id' } }]);
  });

  it('writes nothing when the handler fails (the transaction rolls back)', async () => {
    const res = await request(t.http).post('/api/v1/fixtures/audit/failing/fx_two').send({});
    expect(res.status).toBe(409);
    expect(await events('resource_id = $1', ['fx_two'])).toEqual([]);
  });

  it('leaves an exempt route alone', async () => {
    const res = await request(t.http).post('/api/v1/fixtures/audit/exempt/fx_three').send({});
    expect(res.status).toBe(201);
    expect(await events('resource_id = $1', ['fx_three'])).toEqual([]);
  });

  it('does not duplicate an action the service recorded (one workspace.created, with the service payload)', async () => {
    const res = await request(t.http).post('/api/v1/workspaces').set(auth(token)).send({ slug: 'audited-ws', display_name: 'Audited' });
    expect(res.status).toBe(201);
    const rows = await events('resource_id = $1', [res.body.id]);
    expect(rows.map((r) => r.action)).toEqual(['workspace.created']);
    expect(rows[0].payload).not.toHaveProperty('route');
  });

  it('lists every mutation with its audit declaration next to its permission', () => {
    const routes = t.app.get(RouteAccessInventory).list();
    const mutations = routes.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    expect(mutations.length).toBeGreaterThan(60);
    expect(mutations.filter((r) => !r.audit || r.audit === 'undeclared')).toEqual([]);
    expect(routes.find((r) => r.method === 'POST' && r.path === '/api/v1/workspaces')).toMatchObject({ permission: 'workspace.manage', audit: 'workspace.created' });
    expect(routes.filter((r) => r.method === 'GET' && r.audit !== undefined)).toEqual([]);
  });

  it('refuses to start when one mutation route loses its @Audited', async () => {
    const handler = WorkspacesController.prototype.create;
    const saved: unknown = Reflect.getMetadata(AUDITED, handler);
    expect(saved).toBeDefined();
    Reflect.deleteMetadata(AUDITED, handler);
    try {
      await expect(createTestApp()).rejects.toThrow(/Mutation routes without @Audited\(action\) or @AuditExempt\(reason\): POST \/api\/v1\/workspaces$/);
    } finally {
      Reflect.defineMetadata(AUDITED, saved, handler);
    }
  });
});
