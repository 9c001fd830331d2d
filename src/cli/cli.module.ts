import { Module } from '@nestjs/common';
import { AppModule } from '../app.module.js';
import { UsersModule } from '../users/users.module.js';
import {
  DemoteCommand,
  DisableCommand,
  EnableCommand,
  PromoteCommand,
  RevokeSessionsCommand,
} from './account.command.js';
import { CreateUserCommand, NewPasswordQuestions } from './create-user.command.js';
import { MigrateCommand } from './migrate.command.js';

/**
 * The command line: the app's modules, booted without HTTP, and the commands. Migrations are the
 * db:migrate command's to run; the mail worker stays with the service (a command only enqueues).
 */
@Module({
  imports: [AppModule.forRoot({ DB_MIGRATIONS_RUN: 'false', MAIL_WORKER: 'off' }), UsersModule],
  providers: [
    CreateUserCommand,
    NewPasswordQuestions,
    PromoteCommand,
    DemoteCommand,
    DisableCommand,
    EnableCommand,
    RevokeSessionsCommand,
    MigrateCommand,
  ],
})
export class CliModule {}
