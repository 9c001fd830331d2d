import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Session } from '../../sessions/session.js';
import type { User } from '../../users/user.entity.js';

/** What AuthGuard attaches to a request whose bearer token it accepted. */
export type AuthenticatedRequest = Request & { auth: { user: User; session: Session } };

/** The authenticated user of this request (routes behind AuthGuard only). */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().auth.user,
);

/** The session whose token authenticated this request. */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().auth.session,
);
