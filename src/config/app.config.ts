import { type ConfigOf, namespace } from './namespace.js';

/** The process and its HTTP server. */
export const appConfig = namespace('app', (env) => ({
  nodeEnv: env.NODE_ENV,
  isProduction: env.NODE_ENV === 'production',
  port: env.PORT,
  shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT,
  /** Express's "trust proxy" value. */
  trustProxy: trustProxy(env.TRUST_PROXY),
  logLevel: env.LOG_LEVEL,
  /** The bound on every call to PostgreSQL or Redis. */
  dependencyTimeoutMs: env.DEPENDENCY_TIMEOUT * 1000,
}));
export type AppConfig = ConfigOf<typeof appConfig>;

function trustProxy(value: string): boolean | number | string {
  return value === 'false' ? false : /^\d+$/.test(value) ? Number(value) : value;
}
