import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { digestsEqual, digestToken, generateToken, isWellFormedToken } from './session-token.js';

describe('generateToken', () => {
  it('is lk_ followed by 43 base64url characters', () => {
    const token = generateToken();
    expect(token).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(token).toHaveLength(46);
  });

  it('decodes to 32 random bytes', () => {
    expect(Buffer.from(generateToken().slice(3), 'base64url')).toHaveLength(32);
  });

  it('gives a different value each time', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => generateToken()));
    expect(tokens.size).toBe(200);
  });

  it('makes tokens that isWellFormedToken accepts', () => {
    for (let i = 0; i < 50; i++) expect(isWellFormedToken(generateToken())).toBe(true);
  });
});

describe('digestToken', () => {
  it('is the SHA-256 hex digest of the exact string', () => {
    const token = 'lk_' + 'a'.repeat(43);
    expect(digestToken(token)).toBe(createHash('sha256').update(token, 'utf8').digest('hex'));
  });

  it('matches a known SHA-256 vector', () => {
    expect(digestToken('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('is 64 lowercase hex characters and stable for the same input', () => {
    const token = generateToken();
    expect(digestToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(digestToken(token)).toBe(digestToken(token));
  });

  it('changes when one character of the token changes', () => {
    const token = 'lk_' + 'A'.repeat(43);
    const changed = 'lk_' + 'A'.repeat(42) + 'B';
    expect(digestToken(changed)).not.toBe(digestToken(token));
  });

  it('is case sensitive and does not trim', () => {
    const token = 'lk_' + 'a'.repeat(43);
    expect(digestToken(token.toUpperCase())).not.toBe(digestToken(token));
    expect(digestToken(` ${token}`)).not.toBe(digestToken(token));
  });
});

describe('isWellFormedToken', () => {
  it.each([
    ['lk_' + 'a'.repeat(43)],
    ['lk_' + 'Z9-_'.repeat(10) + 'abc'],
    ['lk_' + '-'.repeat(43)],
  ])('accepts %p', (token) => {
    expect(isWellFormedToken(token)).toBe(true);
  });

  it.each([
    [''],
    ['lk_'],
    ['lk_' + 'a'.repeat(42)],
    ['lk_' + 'a'.repeat(44)],
    ['LK_' + 'a'.repeat(43)],
    ['xx_' + 'a'.repeat(43)],
    ['a'.repeat(46)],
    ['lk_' + 'a'.repeat(42) + '='],
    ['lk_' + 'a'.repeat(42) + '+'],
    ['lk_' + 'a'.repeat(42) + '/'],
    ['lk_' + 'a'.repeat(42) + ' '],
    [' lk_' + 'a'.repeat(43)],
    ['lk_' + 'a'.repeat(43) + '\n'],
  ])('refuses %p', (token) => {
    expect(isWellFormedToken(token)).toBe(false);
  });
});

describe('digestsEqual', () => {
  it('is true for the same digest', () => {
    const digest = digestToken(generateToken());
    expect(digestsEqual(digest, digest)).toBe(true);
    expect(digestsEqual(digest, String(digest))).toBe(true);
  });

  it('is false for digests of different tokens', () => {
    expect(digestsEqual(digestToken(generateToken()), digestToken(generateToken()))).toBe(false);
  });

  it('is false when only the last hex digit differs', () => {
    const digest = digestToken('lk_' + 'a'.repeat(43));
    const last = digest.at(-1) === '0' ? '1' : '0';
    expect(digestsEqual(digest, digest.slice(0, -1) + last)).toBe(false);
  });

  it('is false (not a throw) for strings of different lengths', () => {
    const digest = digestToken('x');
    expect(() => digestsEqual(digest, digest.slice(0, 62))).not.toThrow();
    expect(digestsEqual(digest, digest.slice(0, 62))).toBe(false);
    expect(digestsEqual(digest, '')).toBe(false);
  });
});
