import { type ConfigOf, namespace } from './namespace.js';

/** Password rules and the argon2id cost of hashing them. */
export const passwordsConfig = namespace('passwords', (env) => ({
  minLength: env.PASSWORD_MIN_LENGTH,
  argon2: {
    memoryCost: env.ARGON2_MEMORY_COST,
    timeCost: env.ARGON2_TIME_COST,
    parallelism: env.ARGON2_PARALLELISM,
  },
  /** The breached-password range API; undefined: no such check. */
  pwned: {
    url: env.PWNED_PASSWORDS_URL?.replace(/\/+$/, ''),
    timeoutMs: env.PWNED_PASSWORDS_TIMEOUT * 1000,
    onError: env.PWNED_PASSWORDS_ON_ERROR,
  },
}));
export type PasswordsConfig = ConfigOf<typeof passwordsConfig>;
