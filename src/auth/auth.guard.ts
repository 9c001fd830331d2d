import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { OWNER_PARAM_KEY } from '../common/decorators/owner-or-admin.decorator.js';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator.js';
import { ProblemException } from '../common/problem.exception.js';
import { parseId } from '../common/validation.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';

/** What AuthGuard attaches to a request whose bearer token it accepted. */
export type AuthenticatedRequest = Request & { auth: { user: User; session: Session } };

const REALM = 'Bearer realm="latchkey"';
const BEARER = /^Bearer +(\S+) *$/i;

const unauthenticated = () =>
  new ProblemException(
    401,
    'unauthenticated',
    'Send a bearer token: Authorization: Bearer <token>.',
    {
      headers: { 'WWW-Authenticate': REALM },
    },
  );

const invalidToken = () =>
  new ProblemException(
    401,
    'invalid_token',
    'The token is unknown, expired or revoked. Log in again.',
    {
      headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token"` },
    },
  );

/**
 * Global: every route needs a live session unless marked @Public(). Also the one place that
 * enforces @OwnerOrAdmin(), so a handler cannot forget it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw unauthenticated();
    const session = await this.sessions.authenticate(token);
    const user = session && (await this.users.findById(session.userId));
    // A session made before the user's last credential change is over, whatever the store says.
    if (!session || !user || session.credentialVersion !== user.credentialVersion) {
      throw invalidToken();
    }
    request.auth = { user, session };

    const ownerParam = this.reflector.getAllAndOverride<string | undefined>(
      OWNER_PARAM_KEY,
      targets,
    );
    if (ownerParam !== undefined) {
      const ownerId = parseId(request.params[ownerParam], ownerParam);
      // The handler reads the parameter after this guard, so it gets the id in its stored case.
      request.params[ownerParam] = ownerId;
      if (user.role !== 'admin' && ownerId !== user.id) {
        throw new ProblemException(403, 'forbidden', 'You may only act on your own account.');
      }
    }
    return true;
  }
}
