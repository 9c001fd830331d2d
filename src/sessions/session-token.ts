import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'lk_';
const TOKEN_BYTES = 32;
/** base64url of 32 bytes is 43 characters. */
const TOKEN_PATTERN = /^lk_[A-Za-z0-9_-]{43}$/;

/** A new opaque bearer token: 256 bits from the CSPRNG, prefixed so leaked tokens are easy to find. */
export const generateToken = () => PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');

/** What the server stores instead of the token: SHA-256 of the exact string issued. */
export const digestToken = (token: string) =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** Tokens of any other shape cannot have been issued here, so they need no lookup. */
export const isWellFormedToken = (token: string) => TOKEN_PATTERN.test(token);

/** Constant-time equality of two digests (as their exact bytes, whatever they contain). */
export const digestsEqual = (a: string, b: string) => {
  const [left, right] = [Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')];
  return left.length === right.length && timingSafeEqual(left, right);
};
