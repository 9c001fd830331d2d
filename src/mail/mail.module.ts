import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MailerModule } from '../mailer/mailer.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { EmailToken } from './email-token.entity.js';
import { EmailTokens } from './email-tokens.js';
import { MailOutbox } from './outbox.js';

/** What the service mails and when: the outbox, its worker, the templates and the mailed tokens. */
@Module({
  imports: [TypeOrmModule.forFeature([EmailToken]), MailerModule, SessionsModule],
  providers: [EmailTokens, MailOutbox],
  exports: [EmailTokens, MailOutbox],
})
export class MailModule {}
