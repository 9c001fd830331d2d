import { describe, expect, it } from '@jest/globals';
import { validateEnv } from './env.validation.js';
import { sessionConfig } from './session.config.js';

describe('sessionConfig', () => {
  it('gives the defaults in milliseconds, and the cap', () => {
    expect(sessionConfig.settings(validateEnv({}))).toEqual({
      store: 'memory',
      idleTtlMs: 24 * 3600 * 1000,
      absoluteTtlMs: 14 * 86400 * 1000,
      touchIntervalMs: 60 * 1000,
      maxPerUser: 50,
    });
  });

  it('reads durations with units and the cap from the environment', () => {
    const env = validateEnv({
      SESSION_STORE: 'postgres',
      SESSION_IDLE_TTL: '15m',
      SESSION_ABSOLUTE_TTL: '1d',
      SESSION_TOUCH_INTERVAL: '0',
      SESSION_MAX_PER_USER: '3',
    });
    expect(sessionConfig.settings(env)).toEqual({
      store: 'postgres',
      idleTtlMs: 15 * 60 * 1000,
      absoluteTtlMs: 86400 * 1000,
      touchIntervalMs: 0,
      maxPerUser: 3,
    });
  });
});
