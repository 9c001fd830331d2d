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
import { parseDuration } from './duration.js';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export const SESSION_STORES = ['memory', 'postgres', 'redis'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const CLUSTER_NODES = /^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
const toSeconds = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? (parseDuration(value) ?? value) : value;

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
  @Transform(toSeconds)
  @Min(0)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  SHUTDOWN_TIMEOUT = 10;

  /**
   * Which proxies may set X-Forwarded-For (Express's "trust proxy"): `false` (default: the client IP
   * is the TCP peer), a number of hops, or addresses/subnets such as `loopback, 10.0.0.0/8`.
   */
  @IsString()
  TRUST_PROXY = 'false';

  /**
   * How long any one call to PostgreSQL or Redis may take (statement, connect, pool wait, command)
   * before the request gives up and answers 503.
   */
  @Transform(toSeconds)
  @Min(1)
  @Max(60)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
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

  /** argon2id cost; the minimums are OWASP's recommendation and cannot be lowered. */
  @Transform(toInt)
  @Min(19456)
  @IsInt()
  ARGON2_MEMORY_COST = 19456;

  @Transform(toInt)
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

  @Transform(toSeconds)
  @Min(1)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  SESSION_IDLE_TTL = 24 * 3600;

  @Transform(toSeconds)
  @Min(1)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  SESSION_ABSOLUTE_TTL = 14 * 86400;

  /**
   * How stale lastUsedAt may get before a use writes it again (bounds writes per session). Must be
   * shorter than the idle timeout, or sessions in steady use would never slide.
   */
  @ShorterThan('SESSION_IDLE_TTL')
  @Transform(toSeconds)
  @Min(0)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
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
  @IsString({ message: 'is required when SESSION_STORE=redis (or set REDIS_CLUSTER_NODES)' })
  REDIS_URL?: string;

  /** Start-up nodes of a Redis Cluster (`host:port,host:port`); when set, REDIS_URL is not used. */
  @ValidateIf((env: Env) => env.REDIS_CLUSTER_NODES !== undefined)
  @Matches(CLUSTER_NODES, { message: 'must be host:port[,host:port…]' })
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  /** Namespace of the Redis keys, so several services (or environments) can share one Redis. */
  @IsString()
  REDIS_KEY_PREFIX = 'latchkey:';
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
    throw new Error(`Invalid configuration:\n  - ${describe(errors).join('\n  - ')}`);
  }
  return env;
}
