import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [UsersService, SessionsService, UsersRepository, PasswordHasher],
  exports: [UsersService, SessionsService],
})
export class UsersModule {}
