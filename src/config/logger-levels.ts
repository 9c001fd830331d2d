import type { LogLevel } from '@nestjs/common';
import type { LOG_LEVELS } from './env.validation.js';

const NEST_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const INDEX: Record<(typeof LOG_LEVELS)[number], number> = {
  fatal: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  trace: 5,
};

/** Nest's logger levels at and above LOG_LEVEL. */
export const loggerLevels = (level: (typeof LOG_LEVELS)[number]): LogLevel[] =>
  NEST_LEVELS.slice(0, INDEX[level] + 1);
