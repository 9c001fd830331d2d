import { Inject, Injectable, Logger } from '@nestjs/common';
import { type RateLimitConfig, rateLimitConfig } from '../config/rate-limit.config.js';
import { type RedisConfig, redisConfig } from '../config/redis.config.js';
import { REDIS, type RedisClient } from '../redis/redis.module.js';
import { Clock } from '../sessions/clock.js';
import { digestKey, limiterUnavailable, rateLimited } from './rate-limits.service.js';

interface Policy {
  freeAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  windowMs: number;
}

/** The wait after the nth attempt without a success: none for the free ones, then doubling, capped. */
export const delayAfter = (attempts: number, policy: Policy): number =>
  attempts < policy.freeAttempts
    ? 0
    : Math.min(policy.baseDelayMs * 2 ** (attempts - policy.freeAttempts), policy.maxDelayMs);

/**
 * One attempt, atomically, on one key (so also on a Redis Cluster): refused while the account's
 * delay runs (the reply is the milliseconds left), else counted, and the delay before the next
 * attempt set from the count. Counting the attempt itself, not its failure, means requests racing
 * in parallel cannot all pass before the first of them fails.
 */
const ATTEMPT = `
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local until_at = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < until_at then return until_at - now end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts >= free then
  redis.call('HSET', KEYS[1], 'until', now + math.min(base * 2 ^ (attempts - free), max))
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0
`;

interface Entry {
  attempts: number;
  until: number;
  expiresAt: number;
}

/** Accounts followed at once without Redis; beyond it the oldest entry goes (memory stays bounded). */
const MEMORY_ENTRIES = 100_000;

/**
 * Per-account login throttling, independent of the client's address: after LOGIN_THROTTLE_FREE_ATTEMPTS
 * attempts without a success, each further one waits a delay that doubles up to
 * LOGIN_THROTTLE_MAX_DELAY (429 with Retry-After meanwhile). Never a lock: past the delay an attempt
 * is allowed. A success resets it. Keyed by the normalized email, known or not, so the answer does
 * not tell which emails have accounts. Shared through Redis when one is configured.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger('LoginThrottle');
  private readonly policy: Policy;
  private readonly memory = new Map<string, Entry>();
  private readonly prefix: string;

  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: RateLimitConfig,
    @Inject(redisConfig.KEY) redis: RedisConfig,
    @Inject(REDIS) private readonly client: RedisClient | null,
    private readonly clock: Clock,
  ) {
    this.policy = config.loginThrottle;
    this.prefix = `${redis.keyPrefix}login-throttle:`;
  }

  /** Counts a login attempt on the account, or refuses it (429) while its delay runs. */
  async attempt(email: string): Promise<void> {
    if (!this.config.enabled) return;
    const key = this.prefix + digestKey(email);
    let waitMs: number;
    try {
      waitMs = this.client ? await this.attemptInRedis(key) : this.attemptInMemory(key);
    } catch (error) {
      this.logger.warn(
        `The login throttle's store failed (${(error as Error).message}): refusing the login`,
      );
      throw limiterUnavailable();
    }
    if (waitMs > 0) throw rateLimited(Math.ceil(waitMs / 1000));
  }

  /** The password was right: the account's count starts again. */
  async succeeded(email: string): Promise<void> {
    if (!this.config.enabled) return;
    const key = this.prefix + digestKey(email);
    if (!this.client) {
      this.memory.delete(key);
      return;
    }
    // The login itself succeeded; a leftover count only delays this account's next failures.
    await this.client.del(key).catch((error: Error) => {
      this.logger.warn(`Could not reset the login throttle of an account: ${error.message}`);
    });
  }

  private async attemptInRedis(key: string): Promise<number> {
    const { freeAttempts, baseDelayMs, maxDelayMs, windowMs } = this.policy;
    const reply = await (this.client as RedisClient).eval(
      ATTEMPT,
      1,
      key,
      this.clock.now().getTime(),
      freeAttempts,
      baseDelayMs,
      maxDelayMs,
      windowMs,
    );
    return Number(reply);
  }

  private attemptInMemory(key: string): number {
    const now = this.clock.now().getTime();
    const found = this.memory.get(key);
    const entry = found && found.expiresAt > now ? found : { attempts: 0, until: 0, expiresAt: 0 };
    if (now < entry.until) return entry.until - now;
    entry.attempts += 1;
    const delay = delayAfter(entry.attempts, this.policy);
    if (delay > 0) entry.until = now + delay;
    entry.expiresAt = now + this.policy.windowMs;
    // Re-inserted, so the map's order is by last attempt and the first entry the stalest.
    this.memory.delete(key);
    this.memory.set(key, entry);
    if (this.memory.size > MEMORY_ENTRIES)
      this.memory.delete(this.memory.keys().next().value as string);
    return 0;
  }
}
