import { type ConfigOf, namespace } from './namespace.js';

export const sessionConfig = namespace('session', (env) => ({
  store: env.SESSION_STORE,
  idleTtlMs: env.SESSION_IDLE_TTL * 1000,
  absoluteTtlMs: env.SESSION_ABSOLUTE_TTL * 1000,
  touchIntervalMs: env.SESSION_TOUCH_INTERVAL * 1000,
  maxPerUser: env.SESSION_MAX_PER_USER,
}));
export type SessionConfig = ConfigOf<typeof sessionConfig>;
