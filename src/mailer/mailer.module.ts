import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type AppConfig, appConfig } from '../config/app.config.js';
import { type MailConfig, mailConfig } from '../config/mail.config.js';
import { FileMailer } from './file.mailer.js';
import { Mailer } from './mailer.js';
import { SmtpMailer } from './smtp.mailer.js';

class MailerShutdown implements OnApplicationShutdown {
  constructor(private readonly mailer: Mailer) {}

  async onApplicationShutdown(): Promise<void> {
    await this.mailer.close();
  }
}

/** The Mailer: SMTP when SMTP_URL is set, else .eml files (development). */
@Module({
  providers: [
    {
      provide: Mailer,
      inject: [mailConfig.KEY, appConfig.KEY],
      useFactory: (mail: MailConfig, app: AppConfig): Mailer =>
        mail.smtpUrl
          ? new SmtpMailer(mail.smtpUrl, mail.from, app.dependencyTimeoutMs)
          : new FileMailer(mail.dir, mail.from, new Logger('FileMailer')),
    },
    { provide: MailerShutdown, inject: [Mailer], useFactory: (m: Mailer) => new MailerShutdown(m) },
  ],
  exports: [Mailer],
})
export class MailerModule {}
