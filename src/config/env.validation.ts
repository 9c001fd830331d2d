import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsString,
  IsUrl,
  Max,
  Min,
  ValidateIf,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { parseDuration } from './duration.js';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export const SESSION_STORES = ['memory', 'postgres', 'redis'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
const toSeconds = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? (parseDuration(value) ?? value) : value;

/**
 * Every setting the service reads, with its default. Values arrive as strings from the
 * environment (or .env) and leave typed; anything unparseable stops start-up.
 */
export class Env {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process gives up. */
  @Transform(toSeconds)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  @Min(0)
  SHUTDOWN_TIMEOUT = 10;

  /**
   * Which proxies may set X-Forwarded-For (Express's "trust proxy"): `false` (default: the client IP
   * is the TCP peer), a number of hops, or addresses/subnets such as `loopback, 10.0.0.0/8`.
   */
  @IsString()
  TRUST_PROXY = 'false';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** Unset: an embedded PostgreSQL is started with its data under EMBEDDED_DB_DIR (not in production). */
  @ValidateIf((env: Env) => env.NODE_ENV === 'production' || env.DATABASE_URL !== undefined)
  @IsDefined({ message: 'is required in production (the embedded database is for development)' })
  @IsUrl(
    { protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true },
    { message: 'must be a postgres:// or postgresql:// URL' },
  )
  DATABASE_URL?: string;

  @IsString()
  EMBEDDED_DB_DIR = '.data/pg';

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_DB_PORT = 5433;

  @Transform(toBoolean)
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;

  @Transform(toInt)
  @IsInt()
  @Min(8)
  @Max(128)
  PASSWORD_MIN_LENGTH = 12;

  /** argon2id cost; the minimums are OWASP's recommendation and cannot be lowered. */
  @Transform(toInt)
  @IsInt()
  @Min(19456)
  ARGON2_MEMORY_COST = 19456;

  @Transform(toInt)
  @IsInt()
  @Min(2)
  ARGON2_TIME_COST = 2;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(16)
  ARGON2_PARALLELISM = 1;

  @IsIn(SESSION_STORES)
  SESSION_STORE: (typeof SESSION_STORES)[number] = 'memory';

  @Transform(toSeconds)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  @Min(1)
  SESSION_IDLE_TTL = 24 * 3600;

  @Transform(toSeconds)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  @Min(1)
  SESSION_ABSOLUTE_TTL = 14 * 86400;

  /** How stale lastUsedAt may get before a use writes it again (bounds writes per session). */
  @Transform(toSeconds)
  @IsInt({ message: 'must be seconds or a number with a unit (90s, 15m, 24h, 14d)' })
  @Min(0)
  SESSION_TOUCH_INTERVAL = 60;

  @ValidateIf((env: Env) => env.SESSION_STORE === 'redis' || env.REDIS_URL !== undefined)
  @IsString({ message: 'is required when SESSION_STORE=redis' })
  REDIS_URL?: string;

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
  const errors = validateSync(env);
  if (errors.length > 0) {
    throw new Error(`Invalid configuration:\n  - ${describe(errors).join('\n  - ')}`);
  }
  return env;
}
