import { beforeAll, describe, expect, it } from '@jest/globals';
import { argon2i, hash as argon2Hash } from 'argon2';
import { validateEnv } from '../config/env.validation.js';
import { passwordsConfig } from '../config/passwords.config.js';
import { PasswordService } from './password.service.js';

const CURRENT = { ARGON2_MEMORY_COST: '19456', ARGON2_TIME_COST: '2', ARGON2_PARALLELISM: '1' };

/**
 * The PHC string's algorithm, version and parameters. node-argon2 0.45 writes the parameters as
 * `m=…,p=…,t=…`, not the reference implementation's `m=…,t=…,p=…`, so compare them as a set.
 */
function phc(digest: string) {
  const [, id, version, params] = digest.split('$');
  return {
    id,
    version,
    params: Object.fromEntries(params.split(',').map((pair) => pair.split('='))),
  };
}

/** A service configured as the environment `values` would configure it. */
const serviceWith = (values: Record<string, string>) =>
  new PasswordService(passwordsConfig.settings(validateEnv(values)));

describe('PasswordService', () => {
  const service = serviceWith(CURRENT);
  const password = 'correct horse battery staple';
  let stored: string;

  beforeAll(async () => {
    stored = await service.hash(password);
  });

  describe('hash', () => {
    it('makes an argon2id hash with the configured parameters', () => {
      expect(stored.startsWith('$argon2id$v=19$m=19456,')).toBe(true);
      expect(phc(stored)).toEqual({
        id: 'argon2id',
        version: 'v=19',
        params: { m: '19456', t: '2', p: '1' },
      });
      // Salt and hash follow the parameters.
      expect(stored.split('$')).toHaveLength(6);
    });

    it('does not contain the password', () => {
      expect(stored).not.toContain(password);
    });

    it('salts: the same password hashes differently each time', async () => {
      await expect(service.hash(password)).resolves.not.toBe(stored);
    });

    it('follows the configured cost', async () => {
      const stronger = serviceWith({ ...CURRENT, ARGON2_TIME_COST: '3' });
      const result = await stronger.hash(password);
      expect(phc(result).params).toEqual({ m: '19456', t: '3', p: '1' });
    });
  });

  describe('verify', () => {
    it('is true for the right password', async () => {
      await expect(service.verify(stored, password)).resolves.toBe(true);
    });

    it('is false for a wrong password', async () => {
      await expect(service.verify(stored, 'correct horse battery stapl')).resolves.toBe(false);
      await expect(service.verify(stored, password.toUpperCase())).resolves.toBe(false);
      await expect(service.verify(stored, '')).resolves.toBe(false);
    });

    it('is false for a password with added whitespace (nothing is trimmed)', async () => {
      await expect(service.verify(stored, ` ${password}`)).resolves.toBe(false);
    });

    it.each([
      [''],
      ['garbage'],
      ['$argon2id$'],
      ['$argon2id$v=19$m=19456,t=2,p=1$not-base64$nope'],
      ['$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ])('is false, not a throw, for the malformed hash %p', async (garbage) => {
      await expect(service.verify(garbage, password)).resolves.toBe(false);
    });

    it('verifies hashes made with other parameters (they travel in the hash)', async () => {
      const other = await serviceWith({ ...CURRENT, ARGON2_TIME_COST: '3' }).hash(password);
      await expect(service.verify(other, password)).resolves.toBe(true);
      await expect(service.verify(other, 'wrong password!')).resolves.toBe(false);
    });
  });

  describe('verifyDummy', () => {
    it('resolves to undefined, for any password, more than once', async () => {
      await expect(service.verifyDummy(password)).resolves.toBeUndefined();
      await expect(
        service.verifyDummy('latchkey dummy password, never matches a stored hash'),
      ).resolves.toBeUndefined();
    });
  });

  describe('needsRehash', () => {
    it('is false for a hash made with the current parameters', () => {
      expect(service.needsRehash(stored)).toBe(false);
    });

    it('is true when the configured time cost is now higher than the hash used', () => {
      const stricter = serviceWith({ ...CURRENT, ARGON2_TIME_COST: '3' });
      expect(stricter.needsRehash(stored)).toBe(true);
    });

    it('is true when the configured memory cost is now higher than the hash used', () => {
      const stricter = serviceWith({ ...CURRENT, ARGON2_MEMORY_COST: String(19456 * 2) });
      expect(stricter.needsRehash(stored)).toBe(true);
    });

    it('is true when the configured parallelism differs from the hash', () => {
      const parallel = serviceWith({ ...CURRENT, ARGON2_PARALLELISM: '2' });
      expect(parallel.needsRehash(stored)).toBe(true);
    });

    it('is true for a hash of another argon2 variant', async () => {
      const argon2iHash = await argon2Hash(password, {
        type: argon2i,
        memoryCost: 19456,
        timeCost: 2,
        parallelism: 1,
      });
      expect(argon2iHash.startsWith('$argon2i$')).toBe(true);
      expect(service.needsRehash(argon2iHash)).toBe(true);
    });

    it('is true for a non-argon2 hash', () => {
      expect(
        service.needsRehash('$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'),
      ).toBe(true);
    });
  });
});
