import { appConfig } from './app.config.js';
import { auditConfig } from './audit.config.js';
import { databaseConfig } from './database.config.js';
import { mailConfig } from './mail.config.js';
import { passwordsConfig } from './passwords.config.js';
import { rateLimitConfig } from './rate-limit.config.js';
import { redisConfig } from './redis.config.js';
import { sessionConfig } from './session.config.js';

/** Every namespace ConfigModule loads; a module injects the ones it needs. */
export const NAMESPACES = [
  appConfig,
  databaseConfig,
  passwordsConfig,
  sessionConfig,
  redisConfig,
  mailConfig,
  rateLimitConfig,
  auditConfig,
];
