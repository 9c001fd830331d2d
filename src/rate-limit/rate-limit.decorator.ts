import { SetMetadata } from '@nestjs/common';
import type { RateLimitRule } from '../config/rate-limit.config.js';

export const RATE_LIMIT_KEY = 'latchkey:rate-limit';

/** Where a rule takes its key from: the client's IP bucket, or the email in the body. */
export type RateLimitKey = 'ip' | 'body.email';

/**
 * The route's own limits, on top of the general one, checked in this order by RateLimitGuard
 * (before authentication and before body validation).
 */
export const RateLimit = (...rules: [RateLimitRule, RateLimitKey][]) =>
  SetMetadata(RATE_LIMIT_KEY, rules);
