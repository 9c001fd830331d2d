import { describe, expect, it } from '@jest/globals';
import { validateEnv } from '../config/env.validation.js';
import { rateLimitConfig } from '../config/rate-limit.config.js';
import { delayAfter } from './login-throttle.js';

describe('delayAfter', () => {
  const policy = rateLimitConfig.settings(validateEnv({})).loginThrottle;

  it('defaults to 5 free attempts, then 1 s doubling up to 15 min', () => {
    const delays = Array.from({ length: 20 }, (_, index) => delayAfter(index + 1, policy) / 1000);
    expect(delays.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(delays.slice(4, 16)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
    expect(Math.max(...delays)).toBe(900);
  });

  it('stays capped however many attempts were made', () => {
    expect(delayAfter(10_000, policy)).toBe(900_000);
  });
});

describe('rate limit defaults', () => {
  it('are the documented ones', () => {
    const { rules, enabled } = rateLimitConfig.settings(validateEnv({}));
    expect(enabled).toBe(true);
    expect(rules).toEqual({
      general: { points: 300, seconds: 60 },
      login: { points: 10, seconds: 60 },
      register: { points: 10, seconds: 3600 },
      forgotPasswordPerIp: { points: 10, seconds: 3600 },
      forgotPasswordPerEmail: { points: 3, seconds: 3600 },
      resendPerIp: { points: 10, seconds: 3600 },
      resendPerEmail: { points: 3, seconds: 3600 },
    });
  });

  it('refuse what is not requests/window', () => {
    expect(() => validateEnv({ RATE_LIMIT_LOGIN: '10' })).toThrow(
      /RATE_LIMIT_LOGIN: must be requests\/window/,
    );
    expect(() => validateEnv({ RATE_LIMIT_LOGIN: '0/1m' })).toThrow(/RATE_LIMIT_LOGIN/);
    expect(() => validateEnv({ RATE_LIMIT_LOGIN: '5/2d' })).toThrow(/RATE_LIMIT_LOGIN/);
    expect(validateEnv({ RATE_LIMIT_LOGIN: '5 / 30s' }).RATE_LIMIT_LOGIN).toBe('5 / 30s');
  });

  it('refuse a maximum delay below the first one', () => {
    expect(() =>
      validateEnv({ LOGIN_THROTTLE_BASE_DELAY: '10s', LOGIN_THROTTLE_MAX_DELAY: '5s' }),
    ).toThrow(/LOGIN_THROTTLE_MAX_DELAY: must be at least LOGIN_THROTTLE_BASE_DELAY/);
  });

  it('refuse a CORS origin that is a wildcard or has a path', () => {
    expect(() => validateEnv({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => validateEnv({ CORS_ORIGINS: 'https://a.example/app' })).toThrow(/CORS_ORIGINS/);
    expect(
      validateEnv({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).CORS_ORIGINS,
    ).toBe('https://a.example, http://localhost:5173');
  });
});
