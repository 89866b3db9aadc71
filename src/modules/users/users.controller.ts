import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PageOf } from '../../common/api/pagination.dto';
import { Authenticated, CurrentPrincipal } from '../../common/auth/authenticated.decorator';
import { Principal } from '../../common/auth/principal';
import { RevealsSecret } from '../../common/http/idempotency.decorator';
import { ErrorEnvelope } from '../../common/errors/error-envelope.dto';
import { CreatedUserDto, CreateUserDto, ListUsersQueryDto, UpdateUserDto, UserDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('Users')
@ApiNotFoundResponse({ type: ErrorEnvelope, description: 'No such user in your tenant.' })
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** Add a user to the tenant: with a password (active) or without (invited; `invitation_token` shown once). */
  @Post()
  @RevealsSecret()
  @Authenticated({ permission: 'user.manage' })
  @ApiConflictResponse({ type: ErrorEnvelope, description: 'Already a member (CONFLICT).' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateUserDto): Promise<CreatedUserDto> {
    return this.users.create(principal, dto);
  }

  /** List the tenant's users. */
  @Get()
  @Authenticated({ permission: 'user.read' })
  @ApiOkResponse({ type: PageOf(UserDto) })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListUsersQueryDto) {
    return this.users.list(principal, query);
  }

  /** Get a user of the tenant. */
  @Get(':id')
  @Authenticated({ permission: 'user.read' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<UserDto> {
    return this.users.get(principal, id);
  }

  /** Rename, disable or re-enable a user in this tenant (disabling revokes their sessions). */
  @Patch(':id')
  @Authenticated({ permission: 'user.manage' })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.users.update(principal, id, dto);
  }
}
