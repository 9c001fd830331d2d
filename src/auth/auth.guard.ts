import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { OWNER_PARAM_KEY } from '../common/decorators/owner-or-admin.decorator.js';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator.js';
import { PATH_IDS_KEY, ROLES_KEY } from '../common/decorators/roles.decorator.js';
import { ProblemException } from '../common/problem.exception.js';
import { parseId } from '../common/validation.js';
import { invalidToken, unauthenticated } from '../sessions/bearer-problems.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';

/** What AuthGuard attaches to a request whose bearer token it accepted. */
export type AuthenticatedRequest = Request & { auth: { user: User; session: Session } };

const BEARER = /^Bearer +(\S+) *$/i;

const forbidden = (detail: string) => new ProblemException(403, 'forbidden', detail);

/**
 * Global: every route needs a live session unless marked @Public(). Also the one place that
 * enforces @Roles() and @OwnerOrAdmin(), so a handler cannot forget them.
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
    const found = await this.sessions.authenticate(token);
    const session = found?.session;
    // A store that read the owner with the session spares the second lookup.
    const user =
      found &&
      (found.owner instanceof User ? found.owner : await this.users.findById(found.session.userId));
    // A session made before the user's last credential change is over, whatever the store says.
    // Disabling moved that version too; the flag is checked all the same, as the login does.
    if (
      !session ||
      !user ||
      session.credentialVersion !== user.credentialVersion ||
      user.disabled
    ) {
      throw invalidToken();
    }
    request.auth = { user, session };

    const ownerParam = this.reflector.getAllAndOverride<string | undefined>(
      OWNER_PARAM_KEY,
      targets,
    );
    const idParams = [
      ...(this.reflector.getAllAndOverride<string[] | undefined>(PATH_IDS_KEY, targets) ?? []),
      ...(ownerParam === undefined ? [] : [ownerParam]),
    ];
    // The handler reads the parameters after this guard, so it gets each id in its stored case.
    for (const name of idParams) request.params[name] = parseId(request.params[name], name);

    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets);
    if (roles !== undefined && !roles.includes(user.role)) {
      throw forbidden(`This needs the role ${roles.join(' or ') || 'that nobody has'}.`);
    }
    if (
      ownerParam !== undefined &&
      user.role !== 'admin' &&
      request.params[ownerParam] !== user.id
    ) {
      throw forbidden('You may only act on your own account.');
    }
    return true;
  }
}
