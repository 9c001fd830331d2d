/**
 * The .env files read at start-up, the first to define a variable wins (and the real environment
 * beats them all): personal overrides, then the environment's own defaults, then the shared ones.
 */
export const envFilePaths = (nodeEnv = process.env.NODE_ENV || 'development') => [
  '.env.local',
  `.env.${nodeEnv}`,
  '.env',
];
