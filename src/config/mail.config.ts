import { type ConfigOf, namespace } from './namespace.js';

/** Email ownership and recovery: what is sent, how, and the rules that depend on it. */
export const mailConfig = namespace('mail', (env) => ({
  appBaseUrl: env.APP_BASE_URL,
  smtpUrl: env.SMTP_URL,
  from: env.MAIL_FROM,
  dir: env.MAIL_DIR,
  worker: env.MAIL_WORKER === 'on',
  queue: env.MAIL_QUEUE,
  pollIntervalMs: env.MAIL_POLL_INTERVAL_MS,
  retryLimit: env.MAIL_RETRY_LIMIT,
  retryDelaySeconds: env.MAIL_RETRY_DELAY,
  verifyTokenTtlMs: env.VERIFY_TOKEN_TTL * 1000,
  resetTokenTtlMs: env.RESET_TOKEN_TTL * 1000,
  requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL,
  enumerationSafe: env.REGISTRATION_MODE === 'enumeration-safe',
  /** Development's readable logs may show where a message went; production's never do. */
  isProduction: env.NODE_ENV === 'production',
}));
export type MailConfig = ConfigOf<typeof mailConfig>;
