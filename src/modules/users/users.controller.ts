import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageOf } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { RevealsSecret } from '../../common/http/idempotency.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { CreatedUserDto, CreateUserDto, ListUsersQueryDto, UpdateUserDto, UserDto } from './dto/user.dto';
import { UsersService } from './users.service';
import { Audited } from '../../common/audit/audited.decorator';

@ApiTags('Users')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such user in your tenant.' })
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /**
   * Add a user to the tenant. A new email with a password is an active member at once. Otherwise the user is invited
   * (`status: invited`, `invitation_token` shown once), also when the email already has an account (in another tenant):
   * the answer looks the same, and that account joins only when its owner accepts with their own password.
   */
  @ApiOperation({ summary: 'Add or invite a user' })
  @Post()
  @RevealsSecret()
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('user.added', 'user.invited')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Already a member or already invited (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateUserDto): Promise<CreatedUserDto> {
    return this.users.create(principal, dto);
  }

  /** List the tenant's users. */
  @ApiOperation({ summary: 'List users' })
  @Get()
  @Authenticated({ permission: 'user.read', scope: 'tenant' })
  @ApiOkResponse({ type: PageOf(UserDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListUsersQueryDto) {
    return this.users.list(principal, query);
  }

  /** Get a user of the tenant. */
  @ApiOperation({ summary: 'Get a user' })
  @Get(':id')
  @Authenticated({ permission: 'user.read', scope: 'tenant' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<UserDto> {
    return this.users.get(principal, id);
  }

  /**
   * Rename, disable or re-enable a user in this tenant (disabling revokes their sessions). Only an owner can disable or
   * re-enable an owner (403), and the last active owner cannot be disabled (409 LAST_OWNER).
   */
  @ApiOperation({ summary: 'Update a user' })
  @Patch(':id')
  @Authenticated({ permission: 'user.manage', scope: 'tenant' })
  @Audited('user.updated', 'user.disabled')
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'The last active owner (LAST_OWNER), or an invitation not accepted yet (CONFLICT).' })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.users.update(principal, id, dto);
  }
}
