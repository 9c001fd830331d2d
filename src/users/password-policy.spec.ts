import { describe, expect, it } from '@jest/globals';
import { validateEnv } from '../config/env.validation.js';
import { passwordsConfig } from '../config/passwords.config.js';
import { blocklistReason, COMMON_PASSWORDS } from './password-blocklist.js';
import { PASSWORD_MAX_LENGTH, PasswordPolicy } from './password-policy.js';

const policyWith = (values: Record<string, string> = {}) =>
  new PasswordPolicy(passwordsConfig.settings(validateEnv(values)));

describe('PasswordPolicy', () => {
  it('takes its minimum length from PASSWORD_MIN_LENGTH (12 by default)', () => {
    const policy = policyWith();
    expect(policy.validate('x'.repeat(11))).toBe(false);
    expect(policy.validate('x'.repeat(12))).toBe(true);
    expect(policy.defaultMessage()).toBe(
      `must be a string of 12 to ${PASSWORD_MAX_LENGTH} characters`,
    );

    const stricter = policyWith({ PASSWORD_MIN_LENGTH: '16' });
    expect(stricter.validate('x'.repeat(15))).toBe(false);
    expect(stricter.validate('x'.repeat(16))).toBe(true);
    expect(stricter.defaultMessage()).toContain('16 to');
  });

  it('accepts up to the maximum length, and not beyond', () => {
    const policy = policyWith();
    expect(policy.validate('x'.repeat(PASSWORD_MAX_LENGTH))).toBe(true);
    expect(policy.validate('x'.repeat(PASSWORD_MAX_LENGTH + 1))).toBe(false);
  });

  it('counts code points, not UTF-16 units', () => {
    const policy = policyWith();
    // Eleven emoji are 22 UTF-16 units but 11 characters.
    expect(policy.validate('🔑'.repeat(11))).toBe(false);
    expect(policy.validate('🔑'.repeat(12))).toBe(true);
  });

  it('refuses anything but a string', () => {
    const policy = policyWith();
    for (const value of [undefined, null, 123456789012, ['x'.repeat(12)]]) {
      expect(policy.validate(value)).toBe(false);
    }
  });

  it('neither trims nor folds: spaces count', () => {
    expect(policyWith().validate(' '.repeat(12))).toBe(true);
  });
});

describe('the password blocklist', () => {
  it('holds at least the 10,000 most common passwords', () => {
    expect(COMMON_PASSWORDS).toBeGreaterThanOrEqual(10_000);
  });

  it('refuses common passwords in any case, the service name and the email local part', () => {
    expect(blocklistReason('password1234')).toMatch(/most common/);
    expect(blocklistReason('PassWord1234')).toMatch(/most common/);
    expect(blocklistReason('keep latchkey safe')).toMatch(/service/);
    expect(blocklistReason('lovelace was here', ['Lovelace@example.com'])).toMatch(/email/);
    expect(blocklistReason('correct horse battery staple', ['ada@example.com'])).toBeUndefined();
  });

  it('ignores local parts too short to mean anything', () => {
    expect(blocklistReason('a big blue passphrase', ['a@example.com'])).toBeUndefined();
  });

  it('is part of the policy, with its reason as the message', () => {
    const policy = policyWith();
    const args = { value: 'qwerty123456', object: {} } as never;
    expect(policy.validate('qwerty123456', args)).toBe(false);
    expect(policy.defaultMessage(args)).toMatch(/most common/);
    const withEmail = {
      value: 'hopper for ever',
      object: { email: 'hopper@example.com' },
    } as never;
    expect(policy.validate('hopper for ever', withEmail)).toBe(false);
  });
});
