import { describe, expect, it } from '@jest/globals';
import express from 'express';
import { appConfig } from './app.config.js';
import { Env, validateEnv } from './env.validation.js';
import { StartupError } from './startup-error.js';
import { badTrustProxyEntry, parseTrustProxy } from './trust-proxy.js';

/** The error validateEnv throws for `raw`; fails the test if it does not throw. */
function errorFor(raw: Record<string, unknown>): Error {
  try {
    validateEnv(raw);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`validateEnv accepted ${JSON.stringify(raw)}`);
}

describe('validateEnv', () => {
  describe('defaults', () => {
    it('fills every default from an empty environment', () => {
      const env = validateEnv({});
      expect(env).toBeInstanceOf(Env);
      expect(env).toMatchObject({
        NODE_ENV: 'development',
        PORT: 3000,
        LOG_LEVEL: 'info',
        EMBEDDED_DB_DIR: '.data/pg',
        EMBEDDED_DB_PORT: 5433,
        DB_MIGRATIONS_RUN: true,
        PASSWORD_MIN_LENGTH: 12,
        ARGON2_MEMORY_COST: 19456,
        ARGON2_TIME_COST: 2,
        ARGON2_PARALLELISM: 1,
        SESSION_STORE: 'memory',
        SESSION_IDLE_TTL: 86400,
        SESSION_ABSOLUTE_TTL: 1209600,
        SESSION_TOUCH_INTERVAL: 60,
        SESSION_MAX_PER_USER: 50,
      });
      expect(env.DATABASE_URL).toBeUndefined();
      expect(env.REDIS_URL).toBeUndefined();
      expect(env.REDIS_CLUSTER_NODES).toBeUndefined();
    });

    it('treats an empty string as unset', () => {
      const env = validateEnv({
        PORT: '',
        SESSION_STORE: '',
        SESSION_IDLE_TTL: '',
        DB_MIGRATIONS_RUN: '',
        PASSWORD_MIN_LENGTH: '',
        DATABASE_URL: '',
      });
      expect(env.PORT).toBe(3000);
      expect(env.SESSION_STORE).toBe('memory');
      expect(env.SESSION_IDLE_TTL).toBe(86400);
      expect(env.DB_MIGRATIONS_RUN).toBe(true);
      expect(env.PASSWORD_MIN_LENGTH).toBe(12);
      expect(env.DATABASE_URL).toBeUndefined();
    });
  });

  describe('parsing', () => {
    it('turns numeric strings into integers', () => {
      const env = validateEnv({
        PORT: '8080',
        PASSWORD_MIN_LENGTH: '16',
        ARGON2_MEMORY_COST: '65536',
        ARGON2_TIME_COST: '3',
        ARGON2_PARALLELISM: '4',
        EMBEDDED_DB_PORT: ' 6543 ',
      });
      expect(env).toMatchObject({
        PORT: 8080,
        PASSWORD_MIN_LENGTH: 16,
        ARGON2_MEMORY_COST: 65536,
        ARGON2_TIME_COST: 3,
        ARGON2_PARALLELISM: 4,
        EMBEDDED_DB_PORT: 6543,
      });
    });

    it.each([
      ['15m', 900],
      ['90s', 90],
      ['90', 90],
      ['24h', 86400],
      ['14d', 1209600],
    ])('reads the duration %p as %p seconds', (value, seconds) => {
      const env = validateEnv({
        SESSION_IDLE_TTL: value,
        SESSION_ABSOLUTE_TTL: value,
        SESSION_TOUCH_INTERVAL: '0',
      });
      expect(env.SESSION_IDLE_TTL).toBe(seconds);
      expect(env.SESSION_ABSOLUTE_TTL).toBe(seconds);
      const touch = validateEnv({ SESSION_IDLE_TTL: '30d', SESSION_TOUCH_INTERVAL: value });
      expect(touch.SESSION_TOUCH_INTERVAL).toBe(seconds);
    });

    it('accepts a touch interval of 0 but not an idle TTL of 0', () => {
      expect(validateEnv({ SESSION_TOUCH_INTERVAL: '0' }).SESSION_TOUCH_INTERVAL).toBe(0);
      expect(errorFor({ SESSION_IDLE_TTL: '0' }).message).toContain('SESSION_IDLE_TTL');
    });

    it('requires SESSION_TOUCH_INTERVAL to be shorter than SESSION_IDLE_TTL', () => {
      expect(errorFor({ SESSION_IDLE_TTL: '60s' }).message).toContain(
        'SESSION_TOUCH_INTERVAL: must be shorter than SESSION_IDLE_TTL',
      );
      expect(
        validateEnv({ SESSION_IDLE_TTL: '60s', SESSION_TOUCH_INTERVAL: '10s' }).SESSION_IDLE_TTL,
      ).toBe(60);
    });

    it('requires DATABASE_URL in production, where the embedded database is refused', () => {
      expect(errorFor({ NODE_ENV: 'production' }).message).toContain(
        'DATABASE_URL: is required in production',
      );
      expect(validateEnv({ NODE_ENV: 'development' }).DATABASE_URL).toBeUndefined();
    });

    it.each([
      ['true', true],
      ['false', false],
    ])('reads DB_MIGRATIONS_RUN=%p as %p', (value, expected) => {
      expect(validateEnv({ DB_MIGRATIONS_RUN: value }).DB_MIGRATIONS_RUN).toBe(expected);
    });

    it('accepts the allowed enum values', () => {
      const env = validateEnv({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://latchkey@db.internal:5432/latchkey',
        SMTP_URL: 'smtp://mail.internal:587',
        LOG_LEVEL: 'debug',
        SESSION_STORE: 'postgres',
      });
      expect(env).toMatchObject({
        NODE_ENV: 'production',
        LOG_LEVEL: 'debug',
        SESSION_STORE: 'postgres',
      });
    });
  });

  describe('errors', () => {
    it('throws one error naming every bad variable', () => {
      const error = errorFor({
        PORT: 'abc',
        SESSION_STORE: 'mongo',
        ARGON2_MEMORY_COST: '1024',
      });
      // main.ts prints a StartupError's message alone, without a stack.
      expect(error).toBeInstanceOf(StartupError);
      expect(error.message).toMatch(/^Invalid configuration:/);
      expect(error.message).toContain('PORT');
      expect(error.message).toContain('SESSION_STORE');
      expect(error.message).toContain('ARGON2_MEMORY_COST');
      // One line per variable.
      expect(error.message.split('\n  - ')).toHaveLength(4);
    });

    it('names only the bad variables', () => {
      const error = errorFor({ PORT: 'abc', LOG_LEVEL: 'info', PASSWORD_MIN_LENGTH: '12' });
      expect(error.message).toContain('PORT');
      expect(error.message).not.toContain('LOG_LEVEL');
      expect(error.message).not.toContain('PASSWORD_MIN_LENGTH');
    });

    it.each([
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['PORT', '3000abc'],
      ['NODE_ENV', 'staging'],
      ['LOG_LEVEL', 'verbose'],
      ['DB_MIGRATIONS_RUN', 'yes'],
      ['PASSWORD_MIN_LENGTH', '7'],
      ['PASSWORD_MIN_LENGTH', '129'],
      ['ARGON2_MEMORY_COST', '19455'],
      ['ARGON2_TIME_COST', '1'],
      ['ARGON2_PARALLELISM', '0'],
      ['ARGON2_PARALLELISM', '17'],
      ['EMBEDDED_DB_PORT', '80'],
      ['SESSION_IDLE_TTL', '1.5h'],
      ['SESSION_ABSOLUTE_TTL', '2 weeks'],
      ['SESSION_TOUCH_INTERVAL', '-1s'],
      ['SESSION_MAX_PER_USER', '0'],
      ['SESSION_MAX_PER_USER', '1001'],
      ['SESSION_MAX_PER_USER', '2.5'],
      ['SESSION_MAX_PER_USER', 'many'],
    ])('rejects %s=%p and names it', (name, value) => {
      expect(errorFor({ [name]: value }).message).toContain(`${name}:`);
    });

    it('explains durations in the message', () => {
      expect(errorFor({ SESSION_IDLE_TTL: 'forever' }).message).toMatch(
        /SESSION_IDLE_TTL: .*must be seconds or a number with a unit \(90s, 15m, 24h, 14d\)/,
      );
    });
  });

  describe('DATABASE_URL', () => {
    it.each([
      ['postgres://latchkey:secret@localhost:5432/latchkey'],
      ['postgresql://latchkey@db.internal/latchkey'],
      ['postgres://db/latchkey'],
    ])('accepts %p', (url) => {
      expect(validateEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    });

    it.each([
      ['mysql://root@localhost/latchkey'],
      ['http://localhost:5432/latchkey'],
      ['localhost:5432/latchkey'],
      ['not a url'],
    ])('refuses %p', (url) => {
      expect(errorFor({ DATABASE_URL: url }).message).toContain(
        'DATABASE_URL: must be a postgres:// or postgresql:// URL',
      );
    });
  });

  describe('SESSION_MAX_PER_USER', () => {
    it.each([
      ['1', 1],
      ['50', 50],
      ['1000', 1000],
      [' 7 ', 7],
    ])('accepts %p as %p', (value, expected) => {
      expect(validateEnv({ SESSION_MAX_PER_USER: value }).SESSION_MAX_PER_USER).toBe(expected);
    });

    it.each([['0'], ['-1'], ['1001']])('refuses %p as out of bounds', (value) => {
      expect(errorFor({ SESSION_MAX_PER_USER: value }).message).toMatch(
        /SESSION_MAX_PER_USER: must not be (less than 1|greater than 1000)/,
      );
    });

    it('treats an empty value as the default', () => {
      expect(validateEnv({ SESSION_MAX_PER_USER: '' }).SESSION_MAX_PER_USER).toBe(50);
    });
  });

  describe('REDIS_URL', () => {
    it('is required when SESSION_STORE=redis', () => {
      expect(errorFor({ SESSION_STORE: 'redis' }).message).toContain(
        'REDIS_URL: is required when SESSION_STORE=redis (or set REDIS_CLUSTER_NODES)',
      );
    });

    it('counts an empty REDIS_URL as missing', () => {
      expect(errorFor({ SESSION_STORE: 'redis', REDIS_URL: '' }).message).toContain('REDIS_URL');
    });

    it('is accepted with SESSION_STORE=redis', () => {
      const env = validateEnv({ SESSION_STORE: 'redis', REDIS_URL: 'redis://localhost:6379' });
      expect(env.SESSION_STORE).toBe('redis');
      expect(env.REDIS_URL).toBe('redis://localhost:6379');
    });

    it('is not required for other stores', () => {
      expect(validateEnv({ SESSION_STORE: 'memory' }).REDIS_URL).toBeUndefined();
      expect(validateEnv({ SESSION_STORE: 'postgres' }).REDIS_URL).toBeUndefined();
    });
  });

  describe('REDIS_CLUSTER_NODES', () => {
    it.each([
      ['127.0.0.1:7000,127.0.0.1:7001'],
      ['redis-0.internal:6379'],
      ['a:7000, b:7001 ,c:7002'],
      ['a:1,b:65535'],
    ])('accepts %p', (nodes) => {
      expect(validateEnv({ REDIS_CLUSTER_NODES: nodes }).REDIS_CLUSTER_NODES).toBe(nodes);
    });

    it.each([
      ['localhost'],
      ['127.0.0.1'],
      [':7000'],
      ['127.0.0.1:'],
      ['127.0.0.1:7000,'],
      ['127.0.0.1:7000,,127.0.0.1:7001'],
      ['127.0.0.1:port'],
      ['redis://127.0.0.1:7000'],
      ['127.0.0.1:0'],
      ['127.0.0.1:65536'],
      ['127.0.0.1:99999'],
      ['127.0.0.1:07000'],
    ])('refuses %p and names it', (nodes) => {
      expect(errorFor({ REDIS_CLUSTER_NODES: nodes }).message).toContain(
        'REDIS_CLUSTER_NODES: must be host:port[,host:port…]',
      );
    });

    it('is enough for SESSION_STORE=redis, without REDIS_URL', () => {
      const env = validateEnv({
        SESSION_STORE: 'redis',
        REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001',
      });
      expect(env.SESSION_STORE).toBe('redis');
      expect(env.REDIS_CLUSTER_NODES).toBe('127.0.0.1:7000,127.0.0.1:7001');
      expect(env.REDIS_URL).toBeUndefined();
    });

    it('does not make a malformed one enough for SESSION_STORE=redis', () => {
      const error = errorFor({ SESSION_STORE: 'redis', REDIS_CLUSTER_NODES: 'localhost' });
      expect(error.message).toContain('REDIS_CLUSTER_NODES:');
    });

    it('counts an empty value as unset, so REDIS_URL is required again', () => {
      const error = errorFor({ SESSION_STORE: 'redis', REDIS_CLUSTER_NODES: '' });
      expect(error.message).toContain('REDIS_URL: is required');
      expect(error.message).not.toContain('REDIS_CLUSTER_NODES:');
    });

    it('keeps a REDIS_URL given alongside it', () => {
      const env = validateEnv({
        SESSION_STORE: 'redis',
        REDIS_CLUSTER_NODES: '127.0.0.1:7000',
        REDIS_URL: 'redis://localhost:6379',
      });
      expect(env.REDIS_URL).toBe('redis://localhost:6379');
    });
  });
  describe('upper bounds', () => {
    it.each([
      ['SESSION_IDLE_TTL', '1000000000d', '365d'],
      ['SESSION_IDLE_TTL', '366d', '365d'],
      ['SESSION_ABSOLUTE_TTL', '31536001', '365d'],
      ['SESSION_TOUCH_INTERVAL', '99999999999999999999d', '365d'],
      ['SHUTDOWN_TIMEOUT', '61m', '1h'],
      ['DEPENDENCY_TIMEOUT', '61s', '1m'],
      ['ARGON2_MEMORY_COST', '1048577', '1048576'],
      ['ARGON2_TIME_COST', '101', '100'],
    ])('refuses %s=%p: at most %p', (name, value, bound) => {
      const { message } = errorFor({ [name]: value });
      expect(message).toMatch(
        new RegExp(`${name}: must (be at most|not be greater than) ${bound}$`, 'm'),
      );
    });

    it('accepts every duration at its bound, and dates and timers computed from them stay valid', () => {
      const env = validateEnv({
        SESSION_IDLE_TTL: '365d',
        SESSION_ABSOLUTE_TTL: '365d',
        SESSION_TOUCH_INTERVAL: '364d',
        SHUTDOWN_TIMEOUT: '1h',
        DEPENDENCY_TIMEOUT: '60s',
      });
      expect(env).toMatchObject({
        SESSION_IDLE_TTL: 31536000,
        SESSION_ABSOLUTE_TTL: 31536000,
        SHUTDOWN_TIMEOUT: 3600,
        DEPENDENCY_TIMEOUT: 60,
      });
      const latest = new Date(Date.now() + env.SESSION_ABSOLUTE_TTL * 1000);
      expect(latest.toISOString()).toMatch(/^\d{4}-/);
      // setTimeout fires at once past 2^31 - 1 ms; the shutdown timer must not.
      expect(env.SHUTDOWN_TIMEOUT * 1000).toBeLessThan(2 ** 31);
    });

    it('states a duration bound with its unit', () => {
      expect(errorFor({ SESSION_IDLE_TTL: '0' }).message).toContain(
        'SESSION_IDLE_TTL: must be at least 1s',
      );
      expect(errorFor({ SHUTDOWN_TIMEOUT: '2h' }).message).toContain(
        'SHUTDOWN_TIMEOUT: must be at most 1h',
      );
    });
  });

  describe('REDIS_URL format', () => {
    it.each([
      ['redis://127.0.0.1:6379'],
      ['redis://:secret@redis.internal:6379/0'],
      ['redis://user:secret@redis:6379'],
      ['rediss://redis.example.com:6380'],
      ['redis://[::1]:6379'],
    ])('accepts %p', (url) => {
      expect(validateEnv({ REDIS_URL: url }).REDIS_URL).toBe(url);
    });

    it.each([['localhost:6379'], ['http://localhost:6379'], ['redis//localhost'], ['not a url']])(
      'refuses %p',
      (url) => {
        expect(errorFor({ REDIS_URL: url }).message).toContain(
          'REDIS_URL: must be a redis:// or rediss:// URL',
        );
      },
    );
  });

  describe('REDIS_KEY_PREFIX', () => {
    it.each([['latchkey:'], ['staging:latchkey:'], ['a-b_c.']])('accepts %p', (prefix) => {
      expect(validateEnv({ REDIS_KEY_PREFIX: prefix }).REDIS_KEY_PREFIX).toBe(prefix);
    });

    it.each([['app{1}:'], ['app{'], ['}']])('refuses %p, which would be a hash tag', (prefix) => {
      expect(errorFor({ REDIS_KEY_PREFIX: prefix }).message).toContain(
        'REDIS_KEY_PREFIX: must not contain { or }',
      );
    });
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['false', false],
      ['true', true],
      ['0', 0],
      ['2', 2],
      ['loopback', ['loopback']],
      ['linklocal, uniquelocal', ['linklocal', 'uniquelocal']],
      ['10.0.0.1', ['10.0.0.1']],
      [' loopback , 10.0.0.0/8 ,192.168.1.0/24', ['loopback', '10.0.0.0/8', '192.168.1.0/24']],
      ['10.0.0.0/1,10.0.0.0/32', ['10.0.0.0/1', '10.0.0.0/32']],
      ['::1', ['::1']],
      ['fd00::/8, 2001:db8::/128', ['fd00::/8', '2001:db8::/128']],
      ['::ffff:10.0.0.1/120', ['::ffff:10.0.0.1/120']],
    ])('reads %p as %p, which Express accepts', (value, expected) => {
      const parsed = parseTrustProxy(value);
      expect(parsed).toEqual(expected);
      expect(appConfig.settings(validateEnv({ TRUST_PROXY: value })).trustProxy).toEqual(expected);
      expect(() => express().set('trust proxy', parsed)).not.toThrow();
    });

    it.each([
      ['yes'],
      ['TRUE'],
      ['true,loopback'],
      ['-1'],
      ['1.5'],
      ['localhost'],
      ['10.1'],
      ['10.0.0.256'],
      ['10.0.0.0/33'],
      ['10.0.0.0/0'],
      ['::/0'],
      ['::/129'],
      ['10.0.0.0/'],
      ['10.0.0.0/8/8'],
      ['10.0.0.0/255.0.0.0'],
      ['loopback,'],
      ['loopback,,10.0.0.1'],
      ['loopback 10.0.0.1'],
    ])('refuses %p, naming the bad entry', (value) => {
      expect(parseTrustProxy(value)).toBeUndefined();
      const entry = badTrustProxyEntry(value);
      expect(entry).toBeDefined();
      expect(() => validateEnv({ TRUST_PROXY: value })).toThrow(
        `TRUST_PROXY: must be true, false, a number of hops, or a comma-separated list of IP addresses, CIDR subnets, loopback, linklocal and uniquelocal (${JSON.stringify(entry)} is none of these)`,
      );
    });

    it('defaults to trusting no proxy', () => {
      expect(appConfig.settings(validateEnv({})).trustProxy).toBe(false);
    });
  });
});

describe('mail settings', () => {
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/latchkey' };

  it('defaults: worker on, file transport, 24 h and 1 h tokens, standard registration', () => {
    expect(validateEnv({}).SMTP_URL).toBeUndefined();
    expect(validateEnv({})).toMatchObject({
      MAIL_WORKER: 'on',
      MAIL_DIR: '.data/mail',
      VERIFY_TOKEN_TTL: 86400,
      RESET_TOKEN_TTL: 3600,
      REQUIRE_VERIFIED_EMAIL: false,
      REGISTRATION_MODE: 'standard',
      APP_BASE_URL: 'http://localhost:3000',
    });
  });

  it('requires SMTP_URL in production, where the .eml transport is refused', () => {
    expect(errorFor(production).message).toMatch(/SMTP_URL: is required in production/);
    expect(validateEnv({ ...production, SMTP_URL: 'smtps://u:p@mail.example.com' })).toMatchObject({
      SMTP_URL: 'smtps://u:p@mail.example.com',
    });
  });

  it('takes only smtp:// and smtps:// URLs', () => {
    expect(errorFor({ SMTP_URL: 'http://mail.example.com' }).message).toMatch(
      /SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/,
    );
  });

  it('refuses enumeration-safe registration unless verification is required', () => {
    expect(errorFor({ REGISTRATION_MODE: 'enumeration-safe' }).message).toMatch(
      /REGISTRATION_MODE: enumeration-safe needs REQUIRE_VERIFIED_EMAIL=true/,
    );
    expect(
      validateEnv({ REGISTRATION_MODE: 'enumeration-safe', REQUIRE_VERIFIED_EMAIL: 'true' }),
    ).toMatchObject({ REGISTRATION_MODE: 'enumeration-safe', REQUIRE_VERIFIED_EMAIL: true });
  });

  it('strips a trailing slash from APP_BASE_URL and bounds the token lifetimes', () => {
    expect(validateEnv({ APP_BASE_URL: 'https://app.example.com/' }).APP_BASE_URL).toBe(
      'https://app.example.com',
    );
    expect(errorFor({ RESET_TOKEN_TTL: '2d' }).message).toMatch(/RESET_TOKEN_TTL: must be at most/);
  });
});
