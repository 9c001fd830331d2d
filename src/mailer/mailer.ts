/** One message as the mailer sends it: already rendered, addressed and ready. */
export interface OutgoingMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * How mail leaves the service: SMTP, or .eml files in development. It knows nothing of what the
 * messages mean (that is mail/); a failure throws, and the caller (the outbox) retries.
 */
export abstract class Mailer {
  abstract send(message: OutgoingMessage): Promise<void>;
  abstract close(): Promise<void>;
}
