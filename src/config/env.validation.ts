import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { formatDuration, parseDuration } from './duration.js';
import { StartupError } from './startup-error.js';
import { badTrustProxyEntry, parseTrustProxy } from './trust-proxy.js';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export const SESSION_STORES = ['memory', 'postgres', 'redis'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export const REGISTRATION_MODES = ['standard', 'enumeration-safe'] as const;
export const SWITCHES = ['on', 'off'] as const;
export const ON_ERROR = ['accept', 'refuse'] as const;

/** A TCP port, 1–65535. */
const PORT_PATTERN =
  '(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
const CLUSTER_NODE = `\\s*[^\\s,:]+:${PORT_PATTERN}\\s*`;
const CLUSTER_NODES = new RegExp(`^${CLUSTER_NODE}(,${CLUSTER_NODE})*$`);
const DAY = 86400;
/** The longest session lifetime: a year is already long for a login, and keeps every date valid. */
const MAX_SESSION_TTL = 365 * DAY;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
const toSeconds = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? (parseDuration(value) ?? value) : value;

/**
 * A duration setting, in whole seconds, from `min` to `max`. The upper bounds keep every date and
 * timer computed from a duration valid (a Date ends in the year 275760, a timer after 24.8 days).
 */
const Duration = (min: number, max: number) =>
  // Applied in this order, which is the order class-validator checks them: the format first.
  applyDecorators(
    IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' }),
    Min(min, { message: `must be at least ${formatDuration(min)}` }),
    Max(max, { message: `must be at most ${formatDuration(max)}` }),
    Transform(toSeconds),
  );

const IsTrustProxy = () =>
  ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: (value) => typeof value === 'string' && parseTrustProxy(value) !== undefined,
      defaultMessage: (args) =>
        'must be true, false, a number of hops, or a comma-separated list of IP addresses, ' +
        `CIDR subnets, loopback, linklocal and uniquelocal (${JSON.stringify(badTrustProxyEntry(String(args?.value)))} is none of these)`,
    },
  });

/** `N/duration`: at most N requests per window, e.g. `10/1m`. */
const RATE = /^\s*(\d{1,7})\s*\/\s*(\S+)\s*$/;

/** A rate limit setting as `points/seconds`, or undefined when it does not parse (or is out of bounds). */
export function parseRate(value: string): { points: number; seconds: number } | undefined {
  const match = RATE.exec(value);
  const points = Number(match?.[1]);
  const seconds = match ? parseDuration(match[2]) : undefined;
  if (!match || points < 1 || seconds === undefined || seconds < 1 || seconds > DAY)
    return undefined;
  return { points, seconds };
}

const IsRate = () =>
  ValidateBy({
    name: 'isRate',
    validator: {
      validate: (value) => typeof value === 'string' && parseRate(value) !== undefined,
      defaultMessage: () =>
        'must be requests/window, from 1 request per 1s to 9999999 per 1d (e.g. 10/1m, 3/1h)',
    },
  });

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** The entries of CORS_ORIGINS (validated by Env). */
export const parseOrigins = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');

const IsOriginList = () =>
  ValidateBy({
    name: 'isOriginList',
    validator: {
      validate: (value) =>
        typeof value === 'string' && parseOrigins(value).every((origin) => ORIGIN.test(origin)),
      defaultMessage: (args) =>
        'must be a comma-separated list of origins such as https://app.example.com (scheme, host, ' +
        `optional port; no path, no *): ${JSON.stringify(parseOrigins(String(args?.value)).find((origin) => !ORIGIN.test(origin)))} is not one`,
    },
  });

const AtLeast = (other: string) =>
  ValidateBy({
    name: 'atLeast',
    validator: {
      validate: (value, args) => {
        const limit = (args?.object as Record<string, unknown>)[other];
        return typeof value !== 'number' || typeof limit !== 'number' || value >= limit;
      },
      defaultMessage: () => `must be at least ${other}`,
    },
  });

const ShorterThan = (other: string) =>
  ValidateBy({
    name: 'shorterThan',
    validator: {
      validate: (value, args) => {
        const limit = (args?.object as Record<string, unknown>)[other];
        return typeof value !== 'number' || typeof limit !== 'number' || value < limit;
      },
      defaultMessage: () => `must be shorter than ${other}`,
    },
  });

/**
 * Every setting the service reads, with its default. Values arrive as strings from the environment
 * (or .env) and leave typed; anything unparseable stops start-up. The basic check sits last on each
 * property: class-validator runs a property's checks bottom-up and reports only the first failure.
 */
export class Env {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @Transform(toInt)
  @Min(0)
  @Max(65535)
  @IsInt()
  PORT = 3000;

  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process gives up. */
  @Duration(0, 3600)
  SHUTDOWN_TIMEOUT = 10;

  /**
   * On SIGTERM/SIGINT, how long the app keeps accepting and serving, readiness already 503, so a
   * load balancer stops routing to it before it stops accepting. Unset: 5s in production, else 0.
   */
  @ValidateIf((env: Env) => env.SHUTDOWN_DELAY !== undefined)
  @Duration(0, 300)
  SHUTDOWN_DELAY?: number;

  /**
   * Which proxies may set X-Forwarded-For (Express's "trust proxy"): `false` (default: the client IP
   * is the TCP peer), `true` (every peer), a number of hops, or addresses, subnets and named ranges
   * such as `loopback, 10.0.0.0/8`. Checked here because Express would throw only at start-up.
   */
  @IsTrustProxy()
  @IsString()
  TRUST_PROXY = 'false';

  /**
   * How long any one call to PostgreSQL or Redis may take (statement, connect, pool wait, command)
   * before the request gives up and answers 503.
   */
  @Duration(1, 60)
  DEPENDENCY_TIMEOUT = 3;

  /**
   * Browser origins allowed to call the API cross-origin (CORS); unset, no cross-origin access.
   * Never `*` and never a reflected origin: the list is explicit.
   */
  @ValidateIf((env: Env) => env.CORS_ORIGINS !== undefined)
  @IsOriginList()
  @IsString()
  CORS_ORIGINS?: string;

  /** Serve Swagger UI at /docs and the OpenAPI document at /docs-json. */
  @Transform(toBoolean)
  @IsBoolean()
  SWAGGER_ENABLED = true;

  /** `off`: no rate limit and no per-account login throttling (test environments only). */
  @IsIn(SWITCHES)
  RATE_LIMITS: (typeof SWITCHES)[number] = 'on';

  /** Login attempts per client IP (IPv6: per /64). */
  @IsRate()
  RATE_LIMIT_LOGIN = '10/1m';

  @IsRate()
  RATE_LIMIT_REGISTER = '10/1h';

  /** forgot-password and verify-email/resend, per target email. */
  @IsRate()
  RATE_LIMIT_RECOVERY_PER_EMAIL = '3/1h';

  /** forgot-password and verify-email/resend, per client IP. */
  @IsRate()
  RATE_LIMIT_RECOVERY_PER_IP = '10/1h';

  /** Every request but the health probes, per client IP. */
  @IsRate()
  RATE_LIMIT_GENERAL = '300/1m';

  /** Consecutive login attempts on one account that are never delayed. */
  @Transform(toInt)
  @Min(1)
  @Max(100)
  @IsInt()
  LOGIN_THROTTLE_FREE_ATTEMPTS = 5;

  /** The first delay once the free attempts are used up; each further failure doubles it. */
  @Duration(1, 3600)
  LOGIN_THROTTLE_BASE_DELAY = 1;

  /** The longest delay between two attempts on one account: it never becomes a lock. */
  @AtLeast('LOGIN_THROTTLE_BASE_DELAY')
  @Duration(1, DAY)
  LOGIN_THROTTLE_MAX_DELAY = 15 * 60;

  /** Failures this long in the past are forgotten (the count starts again). */
  @AtLeast('LOGIN_THROTTLE_MAX_DELAY')
  @Duration(60, 30 * DAY)
  LOGIN_THROTTLE_WINDOW = DAY;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** Unset: an embedded PostgreSQL is started with its data under EMBEDDED_DB_DIR (not in production). */
  @ValidateIf((env: Env) => env.NODE_ENV === 'production' || env.DATABASE_URL !== undefined)
  @IsUrl(
    { protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true },
    { message: 'must be a postgres:// or postgresql:// URL' },
  )
  @IsDefined({ message: 'is required in production (the embedded database is for development)' })
  DATABASE_URL?: string;

  @IsString()
  EMBEDDED_DB_DIR = '.data/pg';

  @Transform(toInt)
  @Min(1024)
  @Max(65535)
  @IsInt()
  EMBEDDED_DB_PORT = 5433;

  @Transform(toBoolean)
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;

  @Transform(toInt)
  @Min(8)
  @Max(128)
  @IsInt()
  PASSWORD_MIN_LENGTH = 12;

  /**
   * argon2id cost; the minimums are OWASP's recommendation and cannot be lowered. The maximums
   * (1 GiB, 100 passes) catch typos: beyond them every login would take seconds or exhaust memory.
   */
  @Transform(toInt)
  @Max(1048576)
  @Min(19456)
  @IsInt()
  ARGON2_MEMORY_COST = 19456;

  @Transform(toInt)
  @Max(100)
  @Min(2)
  @IsInt()
  ARGON2_TIME_COST = 2;

  @Transform(toInt)
  @Min(1)
  @Max(16)
  @IsInt()
  ARGON2_PARALLELISM = 1;

  /**
   * A k-anonymity range API of breached passwords (Have I Been Pwned's is
   * https://api.pwnedpasswords.com/range): only the first 5 hex digits of the SHA-1 leave.
   */
  @ValidateIf((env: Env) => env.PWNED_PASSWORDS_URL !== undefined)
  @IsUrl(
    { protocols: ['http', 'https'], require_tld: false, require_protocol: true },
    { message: 'must be an http:// or https:// URL' },
  )
  PWNED_PASSWORDS_URL?: string;

  @Duration(1, 30)
  PWNED_PASSWORDS_TIMEOUT = 2;

  /** When the range API fails or times out: `accept` the password (fail open) or `refuse` (503). */
  @IsIn(ON_ERROR)
  PWNED_PASSWORDS_ON_ERROR: (typeof ON_ERROR)[number] = 'accept';

  @IsIn(SESSION_STORES)
  SESSION_STORE: (typeof SESSION_STORES)[number] = 'memory';

  @Duration(1, MAX_SESSION_TTL)
  SESSION_IDLE_TTL = DAY;

  @Duration(1, MAX_SESSION_TTL)
  SESSION_ABSOLUTE_TTL = 14 * DAY;

  /**
   * How stale lastUsedAt may get before a use writes it again (bounds writes per session). Must be
   * shorter than the idle timeout, or sessions in steady use would never slide.
   */
  @ShorterThan('SESSION_IDLE_TTL')
  @Duration(0, MAX_SESSION_TTL)
  SESSION_TOUCH_INTERVAL = 60;

  /** A login beyond this many live sessions ends the user's least recently used one. */
  @Transform(toInt)
  @Min(1)
  @Max(1000)
  @IsInt()
  SESSION_MAX_PER_USER = 50;

  @ValidateIf(
    (env: Env) =>
      (env.SESSION_STORE === 'redis' && env.REDIS_CLUSTER_NODES === undefined) ||
      env.REDIS_URL !== undefined,
  )
  @IsUrl(
    { protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true },
    { message: 'must be a redis:// or rediss:// URL' },
  )
  @IsString({ message: 'is required when SESSION_STORE=redis (or set REDIS_CLUSTER_NODES)' })
  REDIS_URL?: string;

  /** Start-up nodes of a Redis Cluster (`host:port,host:port`); when set, REDIS_URL is not used. */
  @ValidateIf((env: Env) => env.REDIS_CLUSTER_NODES !== undefined)
  @Matches(CLUSTER_NODES, { message: 'must be host:port[,host:port…]' })
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  /**
   * Namespace of the Redis keys, so several services (or environments) can share one Redis. Braces
   * would make a hash tag of their own and put every key in one cluster slot.
   */
  @Matches(/^[^{}]*$/, { message: 'must not contain { or } (Redis Cluster hash tags)' })
  @IsString()
  REDIS_KEY_PREFIX = 'latchkey:';
  /** Where links in messages point: the web front end's base URL, without a trailing slash. */
  @Transform(({ value }) => (typeof value === 'string' ? value.replace(/\/+$/, '') : value))
  @IsUrl(
    { protocols: ['http', 'https'], require_tld: false, require_protocol: true },
    { message: 'must be an http:// or https:// URL' },
  )
  APP_BASE_URL = 'http://localhost:3000';

  /**
   * The mail server. Unset: each message is written as an .eml file under MAIL_DIR, which is for
   * development only (a production start refuses it).
   */
  @ValidateIf((env: Env) => env.NODE_ENV === 'production' || env.SMTP_URL !== undefined)
  @IsUrl(
    { protocols: ['smtp', 'smtps'], require_tld: false, require_protocol: true },
    { message: 'must be an smtp:// or smtps:// URL' },
  )
  @IsDefined({ message: 'is required in production (the .eml file transport is for development)' })
  SMTP_URL?: string;

  @IsString()
  MAIL_FROM = 'Latchkey <no-reply@localhost>';

  /** Without SMTP_URL, where the .eml files go. */
  @IsString()
  MAIL_DIR = '.data/mail';

  /** `off`: this instance enqueues mail but does not send it (a dedicated instance does). */
  @IsIn(SWITCHES)
  MAIL_WORKER: (typeof SWITCHES)[number] = 'on';

  /** The pg-boss queue of the outbox; instances that share it share the work. */
  @Matches(/^[A-Za-z0-9_.-]{1,50}$/, { message: 'must be 1–50 letters, digits, _ . or -' })
  @IsString()
  MAIL_QUEUE = 'mail';

  /** How often an idle worker looks for mail to send, in milliseconds (pg-boss's minimum is 500). */
  @Transform(toInt)
  @Min(500)
  @Max(60000)
  @IsInt()
  MAIL_POLL_INTERVAL_MS = 2000;

  /** Attempts after the first before a message is given up (with backoff between them). */
  @Transform(toInt)
  @Min(0)
  @Max(1000)
  @IsInt()
  MAIL_RETRY_LIMIT = 50;

  /** The first wait before a retry; each further one doubles it (pg-boss's retryBackoff). */
  @Duration(1, 3600)
  MAIL_RETRY_DELAY = 10;

  @Duration(60, 30 * DAY)
  VERIFY_TOKEN_TTL = DAY;

  @Duration(60, DAY)
  RESET_TOKEN_TTL = 3600;

  /** Audit log rows older than this many days are purged (by one instance at a time). */
  @Transform(toInt)
  @Min(1)
  @Max(36500)
  @IsInt()
  AUDIT_RETENTION_DAYS = 365;

  /** true: an account whose email is not verified cannot log in (403 email_not_verified). */
  @Transform(toBoolean)
  @IsBoolean()
  REQUIRE_VERIFIED_EMAIL = false;

  /**
   * `enumeration-safe`: registering a taken email answers like a fresh one (202) and mails the
   * owner instead. Only with REQUIRE_VERIFIED_EMAIL=true, or the unverified account could log in.
   */
  @ValidateBy({
    name: 'needsVerification',
    validator: {
      validate: (value, args) =>
        value !== 'enumeration-safe' || (args?.object as Env).REQUIRE_VERIFIED_EMAIL === true,
      defaultMessage: () => 'enumeration-safe needs REQUIRE_VERIFIED_EMAIL=true',
    },
  })
  @IsIn(REGISTRATION_MODES)
  REGISTRATION_MODE: (typeof REGISTRATION_MODES)[number] = 'standard';
}

function describe(errors: ValidationError[]): string[] {
  return errors.map((error) => {
    const reasons = Object.values(error.constraints ?? {}).map((message) =>
      message.replace(`${error.property} `, ''),
    );
    return `${error.property}: ${reasons.join('; ')}`;
  });
}

/** ConfigModule's `validate`: returns typed settings or throws one error naming every bad variable. */
export function validateEnv(raw: Record<string, unknown>): Env {
  // An empty variable (PORT=) means "use the default", as it does for most tools.
  const provided = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ''));
  const env = plainToInstance(Env, provided, { exposeDefaultValues: true });
  const errors = validateSync(env, { stopAtFirstError: true });
  if (errors.length > 0) {
    throw new StartupError(`Invalid configuration:\n  - ${describe(errors).join('\n  - ')}`);
  }
  return env;
}
