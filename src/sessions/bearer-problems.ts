import { ProblemException } from '../common/problem.exception.js';

const REALM = 'Bearer realm="latchkey"';

/** 401 for a request that sent no bearer token (or not in the Bearer scheme). */
export const unauthenticated = () =>
  new ProblemException(
    401,
    'unauthenticated',
    'Send a bearer token: Authorization: Bearer <token>.',
    {
      headers: { 'WWW-Authenticate': REALM },
    },
  );

/** 401 for a token that is unknown, expired or revoked, checked by the guard or again by a write. */
export const invalidToken = () =>
  new ProblemException(
    401,
    'invalid_token',
    'The token is unknown, expired or revoked. Log in again.',
    {
      headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token"` },
    },
  );
