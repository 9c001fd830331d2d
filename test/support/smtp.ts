import { type AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  parsed: ParsedMail;
}

/** Polls `check` until it returns a value (not undefined), for at most `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 15000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A real SMTP server of the test's own (smtp-server) on a free port of 127.0.0.1; every message
 * it accepts is parsed with mailparser and kept.
 */
export class TestSmtpServer {
  readonly messages: ReceivedMail[] = [];
  private server!: SMTPServer;
  port = 0;

  /**
   * `starttls` offers STARTTLS with smtp-server's built-in self-signed certificate, which a client
   * that verifies certificates must refuse.
   */
  static async start({ starttls = false } = {}): Promise<TestSmtpServer> {
    const smtp = new TestSmtpServer();
    smtp.server = new SMTPServer({
      authOptional: true,
      disabledCommands: starttls ? [] : ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            for (const rcpt of session.envelope.rcptTo) {
              smtp.messages.push({
                to: rcpt.address,
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                html: typeof parsed.html === 'string' ? parsed.html : '',
                parsed,
              });
            }
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
    smtp.port = (smtp.server.server.address() as AddressInfo).port;
    return smtp;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.messages.filter((message) => message.to === address);
  }

  /** Waits for the `count`-th message to `address` whose subject matches. */
  async waitFor(address: string, subject: RegExp, count = 1): Promise<ReceivedMail> {
    return eventually(
      () => {
        const matching = this.to(address).filter((message) => subject.test(message.subject));
        return matching.length >= count ? matching[count - 1] : undefined;
      },
      { what: `message ${count} "${subject}" to ${address}` },
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The token of the link (`/verify-email?token=` or `/reset-password?token=`) in a message's text. */
export function tokenFrom(message: ReceivedMail, page: 'verify-email' | 'reset-password'): string {
  const match = new RegExp(`(https?://\\S+/${page}\\?token=(\\S+))`).exec(message.text);
  if (!match) throw new Error(`No ${page} link in: ${message.text}`);
  return new URL(match[1]).searchParams.get('token') as string;
}
