import { parseRate } from './env.validation.js';
import { type ConfigOf, namespace } from './namespace.js';

const rate = (value: string) => parseRate(value) as { points: number; seconds: number };

/** Rate limits per client IP and email, and the per-account login throttle. */
export const rateLimitConfig = namespace('rateLimits', (env) => ({
  enabled: env.RATE_LIMITS === 'on',
  rules: {
    general: rate(env.RATE_LIMIT_GENERAL),
    login: rate(env.RATE_LIMIT_LOGIN),
    register: rate(env.RATE_LIMIT_REGISTER),
    forgotPasswordPerIp: rate(env.RATE_LIMIT_RECOVERY_PER_IP),
    forgotPasswordPerEmail: rate(env.RATE_LIMIT_RECOVERY_PER_EMAIL),
    resendPerIp: rate(env.RATE_LIMIT_RECOVERY_PER_IP),
    resendPerEmail: rate(env.RATE_LIMIT_RECOVERY_PER_EMAIL),
  },
  loginThrottle: {
    freeAttempts: env.LOGIN_THROTTLE_FREE_ATTEMPTS,
    baseDelayMs: env.LOGIN_THROTTLE_BASE_DELAY * 1000,
    maxDelayMs: env.LOGIN_THROTTLE_MAX_DELAY * 1000,
    windowMs: env.LOGIN_THROTTLE_WINDOW * 1000,
  },
}));
export type RateLimitConfig = ConfigOf<typeof rateLimitConfig>;
export type RateLimitRule = keyof RateLimitConfig['rules'];
