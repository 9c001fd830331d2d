import { HttpStatus, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { UniqueViolations } from '../common/unique-violations.js';
import { MailModule } from '../mail/mail.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AccountsService } from './accounts.service.js';
import { PasswordPolicy } from './password-policy.js';
import { PasswordService } from './password.service.js';
import { PwnedPasswords } from './pwned-passwords.js';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User]), SessionsModule, MailModule, AuditModule],
  controllers: [UsersController],
  providers: [UsersService, AccountsService, PasswordService, PasswordPolicy, PwnedPasswords],
  exports: [UsersService, AccountsService, PasswordService],
})
export class UsersModule implements OnModuleInit {
  constructor(private readonly uniqueViolations: UniqueViolations) {}

  /** A taken email is the client's doing: the unique index on users.email answers 409, not 500. */
  onModuleInit(): void {
    this.uniqueViolations.register('UQ_users_email', {
      status: HttpStatus.CONFLICT,
      code: 'email_taken',
      detail: 'An account with this email already exists.',
      errors: [{ field: 'email', message: 'is already registered' }],
    });
  }
}
