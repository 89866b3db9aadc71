import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { isoRequired } from '../../common/api/time';
import { Principal, requireTenantPermission } from '../../common/auth/principal';
import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { newId } from '../../common/crypto/ids';
import { newOpaqueToken, sha256Hex } from '../../common/crypto/tokens';
import { CreatedUserDto, CreateUserDto, ListUsersQueryDto, UpdateUserDto, UserDto } from './dto/user.dto';
import { PasswordHasher } from './password-hasher';
import { MemberRow, UserRow, UserViewRow } from './user.entity';
import { InvitationPendingError, LastOwnerError, OwnerProtectedError, UserAlreadyInvitedError, UserAlreadyMemberError, UserNotFoundError } from './users.errors';
import { UsersRepository } from './users.repository';
import { AuditService } from '../audit/audit.service';
import { asTenantId, TenantId } from '../../common/db/tenant-id';
import { required } from '../../common/errors/invariant';

const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

export const toUserDto = (u: UserRow, memberStatus?: 'active' | 'disabled'): UserDto => ({
  id: u.id,
  email: u.email,
  name: u.name,
  status: u.status === 'invited' ? 'invited' : (memberStatus ?? 'active'),
  is_platform_admin: u.is_platform_admin,
  created_at: isoRequired(u.created_at),
  updated_at: isoRequired(u.updated_at),
});

const toMemberDto = (m: MemberRow) => toUserDto(m, m.member_status);

const toViewDto = (v: UserViewRow): UserDto => ({
  id: v.id,
  email: v.email,
  name: v.name,
  status: v.status,
  is_platform_admin: v.is_platform_admin,
  created_at: isoRequired(v.created_at),
  updated_at: isoRequired(v.updated_at),
});

/** What accepting an invitation came to; on anything but `ok` the caller rolls back, so the token stays usable. */
export type AcceptOutcome = { kind: 'ok'; user: UserRow; tenantId: string } | { kind: 'invalid' } | { kind: 'wrong_password'; user: UserRow };

/** How a change touches an owner: `demote` and `disable` take their ownership away, `change` does not. */
export type OwnerChange = 'demote' | 'disable' | 'change';

@Injectable()
export class UsersService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly audit: AuditService,
  ) {}

  /**
   * `POST /users`. A new email with a password becomes an active member at once. Anything else is an invitation by
   * email, whether or not the email already has an account here (another tenant's user): the answer is the same
   * (`invited`, a fresh id, `invitation_token` once), and nothing about an existing account is read out, changed or
   * joined until its owner accepts with their own password (`acceptInvitation`).
   */
  @Transactional()
  async create(principal: Principal, dto: CreateUserDto): Promise<CreatedUserDto> {
    requireTenantPermission(principal, 'user.manage');
    const email = dto.email.trim();
    const existing = await this.repo.findByEmail(email);
    // Same queries whether or not the account exists, so timing does not tell either.
    if (await this.repo.findMember(principal.tenantId, existing?.id ?? '')) throw new UserAlreadyMemberError(email);
    if (!existing && dto.password) {
      const user = await this.repo.insertUser({ id: newId('user'), email, name: dto.name, password_hash: await this.passwords.hash(dto.password), status: 'active', is_platform_admin: false });
      if (user) {
        await this.repo.addMember(principal.tenantId, user.id);
        await this.audit.record({ action: 'user.added', resourceType: 'user', resourceId: user.id, payload: { email: user.email } });
        return toUserDto(user);
      }
      // Lost a race on the same email: the account exists now, so this is an invitation like any other.
    }
    await this.repo.deleteExpiredInvitations(principal.tenantId, email);
    const invitationToken = newOpaqueToken('csi');
    const inviteeId = newId('user');
    const invitation = await this.repo.insertEmailInvitation({
      id: newId('invitation'),
      tenant_id: principal.tenantId,
      email,
      name: dto.name,
      invitee_id: inviteeId,
      token_hash: sha256Hex(invitationToken),
      expires_at: new Date(Date.now() + INVITATION_TTL_MS),
      created_by: principal.userId ?? null,
    });
    if (!invitation) throw new UserAlreadyInvitedError(email);
    await this.audit.record({ action: 'user.invited', resourceType: 'user', resourceId: inviteeId, payload: { email } });
    const view: UserViewRow = { id: inviteeId, email, name: dto.name, status: 'invited', is_platform_admin: false, created_at: invitation.created_at, updated_at: invitation.created_at };
    return { ...toViewDto(view), invitation_token: invitationToken };
  }

  /**
   * Tenant creation (platform admin): makes `email` a member of the tenant: an existing user is added (409 if already a
   * member); a new one is created active with the password, or invited with its account (the one-time invitation token
   * is returned, only its hash is kept).
   */
  async addToTenant(tenantId: TenantId, email: string, name: string, password: string | undefined, createdBy: string | null): Promise<{ user: UserRow; invitationToken?: string }> {
    let user = await this.repo.findByEmail(email);
    let created = false;
    if (!user) {
      user = await this.repo.insertUser({
        id: newId('user'),
        email: email.trim(),
        name,
        password_hash: password ? await this.passwords.hash(password) : null,
        status: password ? 'active' : 'invited',
        is_platform_admin: false,
      });
      if (!user) throw new UserAlreadyMemberError(email); // lost a race on the same email
      created = true;
    }
    if (!(await this.repo.addMember(tenantId, user.id))) throw new UserAlreadyMemberError(email);
    // Only a user created by this call gets an invitation: an existing (even still invited) user is only added here,
    // so no tenant can mint a token that sets another tenant's user's password.
    if (!created || user.status !== 'invited') return { user };
    const invitationToken = newOpaqueToken('csi');
    await this.repo.insertInvitation({
      id: newId('invitation'),
      tenant_id: tenantId,
      user_id: user.id,
      token_hash: sha256Hex(invitationToken),
      expires_at: new Date(Date.now() + INVITATION_TTL_MS),
      created_by: createdBy,
    });
    return { user, invitationToken };
  }

  /** Adds an existing user (by id) to a tenant; no-op when already a member. */
  async addToTenantById(tenantId: TenantId, userId: string): Promise<void> {
    await this.repo.addMember(tenantId, userId);
  }

  /** The account with this email (case-insensitive), if any. */
  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.repo.findByEmail(email);
  }

  /** An account created at its first sign-in through an identity provider: active, without a password. Undefined when the email was taken meanwhile. */
  createWithoutPassword(email: string, name: string): Promise<UserRow | undefined> {
    return this.repo.insertUser({ id: newId('user'), email: email.trim(), name, password_hash: null, status: 'active', is_platform_admin: false });
  }

  /** Whether the user is an active holder of the built-in `owner` role at tenant scope. */
  async isActiveOwner(tenantId: TenantId, userId: string): Promise<boolean> {
    return (await this.repo.owners(tenantId)).some((o) => o.user_id === userId && o.active);
  }

  /** First run only (the caller holds the setup lock): the platform admin. */
  async createPlatformAdmin(email: string, name: string, password: string): Promise<UserRow> {
    const user = await this.repo.insertUser({ id: newId('user'), email: email.trim(), name, password_hash: await this.passwords.hash(password), status: 'active', is_platform_admin: true });
    // The caller holds the setup lock and saw no user, so the email cannot conflict.
    return required(user, `platform admin ${email}`);
  }

  async list(principal: Principal, query: ListUsersQueryDto): Promise<Page<UserDto>> {
    requireTenantPermission(principal, 'user.read');
    const page = toPageRequest(query);
    return toPage(await this.repo.listUsers(principal.tenantId, { status: query.status, email: query.email }, page), page, toViewDto);
  }

  async get(principal: Principal, id: string): Promise<UserDto> {
    requireTenantPermission(principal, 'user.read');
    return toViewDto(await this.listed(principal.tenantId, id));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    requireTenantPermission(principal, 'user.manage');
    const target = await this.repo.findMember(principal.tenantId, id);
    if (!target) {
      await this.listed(principal.tenantId, id);
      throw new InvitationPendingError();
    }
    if (target.is_platform_admin && !principal.platformAdmin) throw new PermissionDeniedError('tenant.manage', 'Only platform admins can change a platform admin.');
    if (dto.status !== undefined && dto.status !== target.member_status) {
      await this.assertOwnerChangeAllowed(principal, id, dto.status === 'disabled' ? 'disable' : 'change');
    }
    if (dto.name !== undefined) await this.repo.rename(id, dto.name);
    if (dto.status !== undefined) {
      await this.repo.setMemberStatus(principal.tenantId, id, dto.status);
      if (dto.status === 'disabled') await this.repo.revokeUserSessions(principal.tenantId, id, 'user_disabled');
    }
    await this.audit.record({ action: dto.status === 'disabled' ? 'user.disabled' : 'user.updated', resourceType: 'user', resourceId: id, payload: { changes: { ...dto } } });
    return toMemberDto(await this.member(principal.tenantId, id));
  }

  /**
   * Owner rules (SPEC §2), inside the caller's transaction. The tenant's owners are locked first, so concurrent changes
   * (two owners demoting each other, or themselves) run one after the other and each sees the other's result. Changing
   * an owner needs the caller to be an active owner (a user, not a key) now; demoting or disabling the last active
   * owner is 409 LAST_OWNER.
   */
  async assertOwnerChangeAllowed(principal: Principal, targetUserId: string, change: OwnerChange): Promise<void> {
    await this.repo.lockOwners(principal.tenantId);
    const owners = await this.repo.owners(principal.tenantId);
    const target = owners.find((o) => o.user_id === targetUserId);
    if (!target) return;
    const callerIsOwner = principal.type === 'user' && owners.some((o) => o.user_id === principal.id && o.active);
    if (!callerIsOwner) throw new OwnerProtectedError();
    if (change !== 'change' && target.active && !owners.some((o) => o.active && o.user_id !== targetUserId)) throw new LastOwnerError();
  }

  async assertMember(tenantId: TenantId, userId: string): Promise<MemberRow> {
    return this.member(tenantId, userId);
  }

  /** 404 unless `id` is a member of the tenant or an open invitation to it. */
  async assertListed(tenantId: TenantId, id: string): Promise<void> {
    await this.listed(tenantId, id);
  }

  /** Tenants to audit a failed login of this user in (SPEC: their tenant admins see attacks on their members). */
  memberTenantIds(userId: string): Promise<string[]> {
    return this.repo.memberTenantIds(userId);
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.repo.findUser(id);
  }

  findMember(tenantId: TenantId, userId: string): Promise<MemberRow | undefined> {
    return this.repo.findMember(tenantId, userId);
  }

  memberships(userId: string) {
    return this.repo.memberships(userId);
  }

  countUsers(): Promise<number> {
    return this.repo.countUsers();
  }

  lockSetup(): Promise<void> {
    return this.repo.lockSetup();
  }

  /** The account behind the email (if any) and whether the password matches; unknown emails cost the same comparison. */
  async checkPassword(email: string, password: string): Promise<{ user: UserRow | undefined; valid: boolean }> {
    const user = await this.repo.findByEmail(email);
    const valid = await this.passwords.verify(password, user?.status === 'active' ? user.password_hash : null);
    return { user, valid };
  }

  /**
   * Accepts an invitation, in the caller's transaction (the token row stays locked until it ends). An invitation
   * issued with its account (tenant creation) sets that account's first password; an active account is never reset.
   * An invitation by email creates the account when the email has none, and otherwise needs the account's current
   * password: the token alone never joins, activates or changes an existing account.
   */
  async acceptInvitation(token: string, password: string, name?: string): Promise<AcceptOutcome> {
    const invitation = await this.repo.lockOpenInvitation(sha256Hex(token));
    if (!invitation) return { kind: 'invalid' };
    let user: UserRow | undefined;
    if (invitation.user_id) {
      user = await this.repo.activate(invitation.user_id, await this.passwords.hash(password), name);
      if (!user) return { kind: 'invalid' };
    } else {
      // invitations_target_check: an invitation without an account names the email, the name and the future user id.
      const email = required(invitation.email, `email of invitation ${invitation.id}`);
      const existing = await this.repo.findByEmail(email);
      const created = existing
        ? undefined
        : await this.repo.insertUser({ id: required(invitation.invitee_id, `invitee of invitation ${invitation.id}`), email, name: name ?? required(invitation.name, `name of invitation ${invitation.id}`), password_hash: await this.passwords.hash(password), status: 'active', is_platform_admin: false });
      user = created ?? existing ?? (await this.repo.findByEmail(email));
      if (!user) return { kind: 'invalid' };
      if (!created && !(await this.passwords.verify(password, user.status === 'active' ? user.password_hash : null))) return { kind: 'wrong_password', user };
      await this.repo.addMember(asTenantId(invitation.tenant_id), user.id);
    }
    const member = await this.repo.findMember(asTenantId(invitation.tenant_id), user.id);
    if (member?.member_status !== 'active') return { kind: 'invalid' }; // disabled in that tenant meanwhile
    await this.repo.markInvitationAccepted(invitation.id);
    return { kind: 'ok', user, tenantId: invitation.tenant_id };
  }

  private async listed(tenantId: TenantId, id: string): Promise<UserViewRow> {
    const [row] = await this.repo.listUsers(tenantId, { id }, { limit: 1 });
    if (!row) throw new UserNotFoundError(id);
    return row;
  }

  private async member(tenantId: TenantId, id: string): Promise<MemberRow> {
    const member = await this.repo.findMember(tenantId, id);
    if (!member) throw new UserNotFoundError(id);
    return member;
  }
}
