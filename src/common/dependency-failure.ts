/** What a 503 for a dependency asks the client to wait, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

/** Socket errors: the server is down, unreachable or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATE classes of a server that cannot serve now: 08 connection exception, 53 insufficient
 * resources (too many connections), 57 operator intervention (57014 statement timeout, 57P01
 * shutdown, 57P03 starting up), 58 system error.
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)[0-9A-Z]{3}$/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * What pg, pg-pool, TypeORM and ioredis say, without a code, when the server cannot be reached or
 * does not answer in time.
 */
const UNAVAILABLE_MESSAGE = new RegExp(
  '^(' +
    [
      // pg and pg-pool
      'Query read timeout',
      'Connection terminated',
      'Client has encountered a connection error',
      'Client was closed',
      'timeout expired',
      'timeout exceeded when trying to connect',
      // TypeORM, before the first connection (and after the last)
      'Driver not Connected',
      // ioredis
      'Command timed out',
      'Socket timeout',
      'Connection is closed',
      'Connection is aborted',
      "Stream isn't writeable",
      "Cluster isn't ready",
      'Cluster is (disconnected|disconnecting|ended)',
      'None of startup nodes is available',
      'Node is disconnected',
      'Failed to refresh slots cache',
      'Too many Cluster redirections',
    ].join('|') +
    ')',
);

/** Redis replies of a server that is loading, busy, failing over or without a cluster. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|READONLY|NOREPLICAS)\b/;

const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

interface ErrorShape {
  name?: unknown;
  /** http-errors (body-parser's): about the HTTP request, whose ECONNABORTED is the client's. */
  status?: unknown;
  message?: unknown;
  code?: unknown;
  /** TypeORM's QueryFailedError: what pg threw. */
  driverError?: unknown;
  cause?: unknown;
  /** AggregateError: one per address tried (localhost is ::1 and 127.0.0.1). */
  errors?: unknown;
}

/**
 * Whether an error says that PostgreSQL or Redis could not serve (down, unreachable, stalled past
 * DEPENDENCY_TIMEOUT, shutting down, overloaded) rather than that the request or the code is wrong:
 * such a request answers 503, to be retried. Knows the error shapes of the drivers, no feature.
 */
export function isDependencyFailure(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { name, status, message, code, driverError, cause, errors } = error as ErrorShape;
  if (status !== undefined) return false;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)) return true;
    // Any other SQLSTATE is the server's clear answer about this statement (a constraint, say).
    if (SQLSTATE.test(code)) return false;
  }
  if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
  if (typeof message === 'string') {
    if (UNAVAILABLE_MESSAGE.test(message)) return true;
    if (name === 'ReplyError' && UNAVAILABLE_REPLY.test(message)) return true;
  }
  const inner = [driverError, cause, ...(Array.isArray(errors) ? errors : [])];
  return inner.some((each) => isDependencyFailure(each, depth + 1));
}
