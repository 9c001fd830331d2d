import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { RETRY_AFTER_SECONDS } from '../common/dependency-failure.js';
import { ProblemException } from '../common/problem.exception.js';
import {
  type RateLimitConfig,
  rateLimitConfig,
  type RateLimitRule,
} from '../config/rate-limit.config.js';
import { type RedisConfig, redisConfig } from '../config/redis.config.js';
import { REDIS, type RedisClient } from '../redis/redis.module.js';

export const rateLimited = (retryAfterSeconds: number) =>
  new ProblemException(429, 'rate_limited', 'Too many attempts. Wait before trying again.', {
    headers: { 'Retry-After': String(Math.max(1, retryAfterSeconds)) },
  });

export const limiterUnavailable = () =>
  new ProblemException(
    503,
    'service_unavailable',
    'A service this request needs is not answering. Try again shortly.',
    { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
  );

const LOG_INTERVAL_MS = 60_000;

/**
 * A key that names no one in the store: emails are digested, so Redis holds no address (and a key
 * has a bounded size whatever was sent).
 */
export const digestKey = (value: string) =>
  createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 32);

/**
 * Fixed-window counters per rule and key (rate-limiter-flexible): in Redis when one is configured,
 * shared by every instance (each count is one Lua script on one key, atomic on a Redis Cluster
 * too), otherwise in this process's memory.
 */
@Injectable()
export class RateLimits {
  private readonly logger = new Logger('RateLimits');
  private readonly limiters = new Map<RateLimitRule, RateLimiterAbstract>();
  /** When the general limit's failure was last logged: once a minute, not once per request. */
  private generalFailureLoggedAt = 0;

  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: RateLimitConfig,
    @Inject(redisConfig.KEY) redis: RedisConfig,
    @Inject(REDIS) client: RedisClient | null,
  ) {
    for (const [rule, { points, seconds }] of Object.entries(config.rules)) {
      const options = { points, duration: seconds, keyPrefix: `${redis.keyPrefix}rl:${rule}` };
      this.limiters.set(
        rule as RateLimitRule,
        client
          ? new RateLimiterRedis({ ...options, storeClient: client })
          : new RateLimiterMemory(options),
      );
    }
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /**
   * Counts one request against the rule: 429 `rate_limited` with Retry-After past the limit. When
   * the store fails, the general limit lets the request through (and logs it), every other rule
   * fails closed with 503: an attacker must not win attempts by taking Redis down.
   */
  async consume(rule: RateLimitRule, key: string): Promise<void> {
    if (!this.config.enabled) return;
    try {
      await (this.limiters.get(rule) as RateLimiterAbstract).consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw rateLimited(Math.ceil(error.msBeforeNext / 1000));
      const reason = error instanceof Error ? error.message : String(error);
      if (rule === 'general') {
        if (Date.now() - this.generalFailureLoggedAt >= LOG_INTERVAL_MS) {
          this.generalFailureLoggedAt = Date.now();
          this.logger.warn(`The general rate limit is not applied: its store failed (${reason})`);
        }
        return;
      }
      this.logger.warn(`The ${rule} rate limit store failed (${reason}): refusing the request`);
      throw limiterUnavailable();
    }
  }
}
