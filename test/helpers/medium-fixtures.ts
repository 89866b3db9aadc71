import { Principal } from '../../src/common/auth/principal';
import { AgentsService } from '../../src/modules/agents/agents.service';
import { AuthService } from '../../src/modules/auth/auth.service';
import { RolesService } from '../../src/modules/roles/roles.service';
import { SecretsService } from '../../src/modules/secrets/secrets.service';
import { TenantsService } from '../../src/modules/tenants/tenants.service';
import { UsersService } from '../../src/modules/users/users.service';
import { WorkspacesService } from '../../src/modules/workspaces/workspaces.service';
import { claimsOf, MediumApp, PRINCIPAL_RESOLVER, PrincipalResolver } from './medium-app';

export type ScopeType = 'tenant' | 'workspace' | 'environment';

/** A user of a tenant: the principal the guard would resolve for their session, and how to log in again. */
export interface Member {
  principal: Principal;
  userId: string;
  email: string;
  password: string;
  tenantId: string;
}

export interface TenantFixture {
  tenantId: string;
  owner: Member;
}

/** An agent and the principal its secret authenticates as. */
export interface AgentFixture {
  id: string;
  secret: string;
  principal: Principal;
}

const ADMIN = { email: 'admin@medium.example', password: 'correct horse battery', name: 'Platform Admin' };
const PASSWORD = 'member password 123';

/**
 * Fixtures made through the services themselves (setup, tenant creation, invitations, roles, workspaces, agents,
 * inventory), as an operator would make them; principals come from real sessions through the app's principal resolver.
 */
export class MediumFixtures {
  private admin?: Member;

  constructor(private readonly m: MediumApp) {}

  private get resolver(): PrincipalResolver {
    return this.m.app.get<PrincipalResolver>(PRINCIPAL_RESOLVER, { strict: false });
  }

  /** Logs in (a real session) and resolves the principal the guard would see for its access token. */
  async login(email: string, password: string, tenantId?: string): Promise<Member> {
    const tokens = await this.m.as(undefined, () => this.m.get(AuthService).login({ email, password, tenant_id: tenantId }));
    const claims = claimsOf(tokens.access_token);
    const principal = await this.m.as(undefined, () => this.resolver.fromAccessToken(claims));
    return { principal, userId: principal.id, email, password, tenantId: principal.tenantId };
  }

  /** The same member resolved again (grants are read fresh on every request, so after a role change). */
  refresh(member: Member): Promise<Member> {
    return this.login(member.email, member.password, member.tenantId);
  }

  /** First-run setup (once per app) and the platform admin's session in the default tenant. */
  async platformAdmin(): Promise<Member> {
    if (!this.admin) {
      await this.m.as(undefined, () => this.m.get(AuthService).setup(ADMIN));
      this.admin = await this.login(ADMIN.email, ADMIN.password);
    }
    return this.admin;
  }

  /** A tenant created by the platform admin; its owner accepted the invitation and holds `owner` at tenant scope. */
  async tenant(slug: string): Promise<TenantFixture> {
    const admin = await this.platformAdmin();
    const email = `owner@${slug}.example`;
    const created = await this.m.as(admin.principal, () =>
      this.m.get(TenantsService).create(admin.principal, { slug, display_name: slug.toUpperCase(), plan: 'team', admin_email: email }),
    );
    const password = 'owner password 123';
    await this.m.as(undefined, () => this.m.get(AuthService).acceptInvitation({ token: created.admin_invitation_token!, password, name: `Owner ${slug}` }));
    return { tenantId: created.id, owner: await this.login(email, password, created.id) };
  }

  /** A role's id by name (built-in or custom), as the owner sees the tenant's roles. */
  async roleId(owner: Member, name: string): Promise<string> {
    const page = await this.m.as(owner.principal, () => this.m.get(RolesService).list(owner.principal, { limit: 200 }));
    const role = page.data.find((r) => r.name === name);
    if (!role) throw new Error(`role ${name} not found`);
    return role.id;
  }

  /** Gives `userId` a role at a scope, as `by` (the tenant owner unless said otherwise); returns the assignment id. */
  async assign(by: Member, userId: string, role: string, scopeType: ScopeType, scopeId: string): Promise<string> {
    const roleId = await this.roleId(by, role);
    const created = await this.m.as(by.principal, () => this.m.get(RolesService).assign(by.principal, { user_id: userId, role_id: roleId, scope_type: scopeType, scope_id: scopeId }));
    return created.id;
  }

  /** An active member of the owner's tenant with a password, holding the given roles; resolved after the assignments. */
  async member(owner: Member, email: string, roles: [role: string, scopeType: ScopeType, scopeId: string][] = []): Promise<Member> {
    const user = await this.m.as(owner.principal, () => this.m.get(UsersService).create(owner.principal, { email, name: email.split('@')[0], password: PASSWORD }));
    for (const [role, scopeType, scopeId] of roles) await this.assign(owner, user.id, role, scopeType, scopeId);
    return this.login(email, PASSWORD, owner.tenantId);
  }

  async workspace(owner: Member, slug: string): Promise<string> {
    const ws = await this.m.as(owner.principal, () => this.m.get(WorkspacesService).create(owner.principal, { slug, display_name: slug.toUpperCase() }));
    return ws.id;
  }

  async environment(owner: Member, workspaceId: string, name: string, isProtected = false): Promise<string> {
    const env = await this.m.as(owner.principal, () => this.m.get(WorkspacesService).createEnvironment(owner.principal, workspaceId, { name, protected: isProtected }));
    return env.id;
  }

  /** An agent minted by `owner` for a workspace (and environment), authenticated with its secret. */
  async agent(owner: Member, name: string, where: { workspaceId: string; environmentId?: string; capabilities?: string[] }): Promise<AgentFixture> {
    const agents = this.m.get(AgentsService);
    const minted = await this.m.as(owner.principal, () =>
      agents.mint(owner.principal, { name, workspace_id: where.workspaceId, environment_id: where.environmentId, cluster_name: 'c1', capabilities: where.capabilities ?? ['file'] }),
    );
    return { id: minted.agent.id, secret: minted.agent_secret, principal: await this.agentPrincipal(minted.agent.id, minted.agent_secret) };
  }

  /** The agent's principal as resolved now (public key, capabilities and revocation are read on every call). */
  agentPrincipal(id: string, secret: string): Promise<Principal> {
    return this.m.as(undefined, () => this.resolver.fromAgentSecret(id, secret));
  }

  /** A secret the agent reports in its inventory; its id as the owner lists it. */
  async secret(agent: AgentFixture, owner: Member, ref: string, labels: Record<string, string> = {}): Promise<string> {
    const secrets = this.m.get(SecretsService);
    await this.m.as(agent.principal, () => secrets.bulkUpsert(agent.principal, { secrets: [{ cluster_name: 'c1', provider: 'file', ref, labels }] }));
    const page = await this.m.as(owner.principal, () => secrets.list(owner.principal, { limit: 200, ref_prefix: ref }));
    const found = page.data.find((s) => s.ref === ref && s.agent_id === agent.id);
    if (!found) throw new Error(`secret ${ref} not listed`);
    return found.id;
  }
}

/** Audit events of one resource, oldest first, read straight from the table. */
export async function auditOf(m: MediumApp, resourceId: string): Promise<{ action: string; actor_type: string; actor_id: string | null; tenant_id: string | null; outcome: string; payload: Record<string, unknown> }[]> {
  const res = await m.sql.query(`SELECT action, actor_type, actor_id, tenant_id, outcome, payload FROM audit_events WHERE resource_id = $1 ORDER BY id`, [resourceId]);
  return res.rows;
}

/** How many rows of `table` match a simple equality (for "nothing was written" assertions). */
export async function countRows(m: MediumApp, table: string, column: string, value: unknown): Promise<number> {
  const res = await m.sql.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [value]);
  return res.rows[0].n as number;
}
