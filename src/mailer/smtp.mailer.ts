import nodemailer, { type Transporter } from 'nodemailer';
import { Mailer, type OutgoingMessage } from './mailer.js';

/**
 * Sends through SMTP_URL. `smtps://` is implicit TLS (the connection is TLS from its first byte,
 * port 465). With `smtp://`, nodemailer upgrades with STARTTLS whenever the server offers it, and
 * an upgrade that fails is an error, never a fall-back to plain text; `ignoreTLS` is never set.
 * A server that offers no STARTTLS at all is used in plain text (a local relay, a test server).
 */
export class SmtpMailer extends Mailer {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    timeoutMs: number,
  ) {
    super();
    this.transport = nodemailer.createTransport({
      url,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs * 3,
    } as Parameters<typeof nodemailer.createTransport>[0]);
  }

  async send(message: OutgoingMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, ...message });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
