import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { Page, toPage, toPageRequest } from '../../common/api/pagination';
import { isoRequired } from '../../common/api/time';
import { holdsTenantWide, Principal } from '../../common/auth/principal';
import { PermissionDeniedError } from '../../common/auth/auth.errors';
import { newId } from '../../common/crypto/ids';
import { newOpaqueToken, sha256Hex } from '../../common/crypto/tokens';
import { CreatedUserDto, CreateUserDto, ListUsersQueryDto, UpdateUserDto, UserDto } from './dto/user.dto';
import { PasswordHasher } from './password-hasher';
import { MemberRow, UserRow } from './user.entity';
import { UserAlreadyMemberError, UserNotFoundError } from './users.errors';
import { UsersRepository } from './users.repository';
import { AuditService } from '../audit/audit.service';

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

@Injectable()
export class UsersService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly audit: AuditService,
  ) {}

  @Transactional()
  async create(principal: Principal, dto: CreateUserDto): Promise<CreatedUserDto> {
    if (!holdsTenantWide(principal, 'user.manage')) throw new PermissionDeniedError('user.manage');
    const { user, invitationToken } = await this.addToTenant(principal.tenantId, dto.email, dto.name, dto.password, principal.userId ?? null);
    await this.audit.record({ action: invitationToken ? 'user.invited' : 'user.added', resourceType: 'user', resourceId: user.id, payload: { email: user.email } });
    return { ...toUserDto(user), ...(invitationToken ? { invitation_token: invitationToken } : {}) };
  }

  /**
   * Makes `email` a member of the tenant: an existing user is added (409 if already a member); a new one is created
   * active with the password, or invited (the one-time invitation token is returned, only its hash is kept).
   */
  async addToTenant(tenantId: string, email: string, name: string, password: string | undefined, createdBy: string | null): Promise<{ user: UserRow; invitationToken?: string }> {
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
  async addToTenantById(tenantId: string, userId: string): Promise<void> {
    await this.repo.addMember(tenantId, userId);
  }

  /** First run only (the caller holds the setup lock): the platform admin. */
  async createPlatformAdmin(email: string, name: string, password: string): Promise<UserRow> {
    const user = await this.repo.insertUser({ id: newId('user'), email: email.trim(), name, password_hash: await this.passwords.hash(password), status: 'active', is_platform_admin: true });
    return user!;
  }

  async list(principal: Principal, query: ListUsersQueryDto): Promise<Page<UserDto>> {
    const page = toPageRequest(query);
    return toPage(await this.repo.listMembers(principal.tenantId, { status: query.status, email: query.email }, page), page, toMemberDto);
  }

  async get(principal: Principal, id: string): Promise<UserDto> {
    return toMemberDto(await this.member(principal.tenantId, id));
  }

  @Transactional()
  async update(principal: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    if (!holdsTenantWide(principal, 'user.manage')) throw new PermissionDeniedError('user.manage');
    const target = await this.member(principal.tenantId, id);
    if (target.is_platform_admin && !principal.platformAdmin) throw new PermissionDeniedError('tenant.manage', 'Only platform admins can change a platform admin.');
    if (dto.name !== undefined) await this.repo.rename(id, dto.name);
    if (dto.status !== undefined) {
      await this.repo.setMemberStatus(principal.tenantId, id, dto.status);
      if (dto.status === 'disabled') await this.repo.revokeUserSessions(principal.tenantId, id, 'user_disabled');
    }
    await this.audit.record({ action: dto.status === 'disabled' ? 'user.disabled' : 'user.updated', resourceType: 'user', resourceId: id, payload: { changes: { ...dto } } });
    return toMemberDto(await this.member(principal.tenantId, id));
  }

  async assertMember(tenantId: string, userId: string): Promise<MemberRow> {
    return this.member(tenantId, userId);
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.repo.findUser(id);
  }

  findMember(tenantId: string, userId: string): Promise<MemberRow | undefined> {
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

  /** The user when the password matches; unknown emails cost the same bcrypt comparison. */
  async verifyPassword(email: string, password: string): Promise<UserRow | undefined> {
    const user = await this.repo.findByEmail(email);
    const ok = await this.passwords.verify(password, user?.status === 'active' ? user.password_hash : null);
    return ok ? user : undefined;
  }

  /** Consumes an invitation token: sets the password, activates the user. */
  async acceptInvitation(token: string, password: string, name?: string): Promise<{ user: UserRow; tenantId: string } | undefined> {
    const invitation = await this.repo.claimInvitation(sha256Hex(token));
    if (!invitation) return undefined;
    const user = await this.repo.activate(invitation.user_id, await this.passwords.hash(password), name);
    if (!user) return undefined; // already active: an invitation never resets a password
    return { user, tenantId: invitation.tenant_id };
  }

  private async member(tenantId: string, id: string): Promise<MemberRow> {
    const member = await this.repo.findMember(tenantId, id);
    if (!member) throw new UserNotFoundError(id);
    return member;
  }
}
