import { parseOrigins } from './env.validation.js';
import { type ConfigOf, namespace } from './namespace.js';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js';

/** The process and its HTTP server. */
export const appConfig = namespace('app', (env) => ({
  nodeEnv: env.NODE_ENV,
  isProduction: env.NODE_ENV === 'production',
  port: env.PORT,
  shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT,
  /** A balancer needs a few seconds to notice readiness; development and tests need none. */
  shutdownDelaySeconds: env.SHUTDOWN_DELAY ?? (env.NODE_ENV === 'production' ? 5 : 0),
  /** Express's "trust proxy" value (TRUST_PROXY is validated, so it always parses). */
  trustProxy: parseTrustProxy(env.TRUST_PROXY) as TrustProxy,
  logLevel: env.LOG_LEVEL,
  /** The bound on every call to PostgreSQL or Redis. */
  dependencyTimeoutMs: env.DEPENDENCY_TIMEOUT * 1000,
  /** Origins allowed cross-origin; empty: CORS stays off. */
  corsOrigins: parseOrigins(env.CORS_ORIGINS),
  swaggerEnabled: env.SWAGGER_ENABLED,
}));
export type AppConfig = ConfigOf<typeof appConfig>;
