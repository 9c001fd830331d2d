import { describe, expect, it } from '@jest/globals';
import { appConfig } from './app.config.js';
import { validateEnv } from './env.validation.js';

/** What production needs to validate at all; none of it concerns the shutdown. */
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/latchkey',
  SMTP_URL: 'smtp://mail:25',
};

describe('appConfig shutdown settings', () => {
  it('waits SHUTDOWN_DELAY 5s by default in production, so a load balancer can stop routing', () => {
    expect(appConfig.settings(validateEnv(PRODUCTION)).shutdownDelaySeconds).toBe(5);
  });

  it.each(['development', 'test'])('waits no delay by default when NODE_ENV=%s', (nodeEnv) => {
    expect(appConfig.settings(validateEnv({ NODE_ENV: nodeEnv })).shutdownDelaySeconds).toBe(0);
  });

  it('takes SHUTDOWN_DELAY as set, in every environment, 0 included', () => {
    expect(
      appConfig.settings(validateEnv({ ...PRODUCTION, SHUTDOWN_DELAY: '0' })).shutdownDelaySeconds,
    ).toBe(0);
    expect(appConfig.settings(validateEnv({ SHUTDOWN_DELAY: '30s' })).shutdownDelaySeconds).toBe(
      30,
    );
  });

  it('refuses a SHUTDOWN_DELAY over 5m or not a duration, in one clear line', () => {
    expect(() => validateEnv({ SHUTDOWN_DELAY: '6m' })).toThrow(
      /SHUTDOWN_DELAY: must be at most 5m$/m,
    );
    expect(() => validateEnv({ SHUTDOWN_DELAY: 'soon' })).toThrow(
      /SHUTDOWN_DELAY: must be seconds or a number with a unit/,
    );
  });
});
