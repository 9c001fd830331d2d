/**
 * Rate limits raised far above any load one machine makes, for the benchmark and the soak: every
 * request still goes through the limiter (so its cost is measured), and none is refused with 429.
 * The login throttle counts attempts until one succeeds, so many concurrent logins of one account
 * need the most free attempts it allows.
 */
const HIGHEST = '9999999/1s';

export const RAISED_RATE_LIMITS = {
  RATE_LIMITS: 'on',
  RATE_LIMIT_LOGIN: HIGHEST,
  RATE_LIMIT_REGISTER: HIGHEST,
  RATE_LIMIT_RECOVERY_PER_EMAIL: HIGHEST,
  RATE_LIMIT_RECOVERY_PER_IP: HIGHEST,
  RATE_LIMIT_GENERAL: HIGHEST,
  LOGIN_THROTTLE_FREE_ATTEMPTS: '100',
};
