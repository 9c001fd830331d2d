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
