import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Session } from './session.js';

/** The session whose token authenticated this request (routes behind AuthGuard only). */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<Request & { auth: { session: Session } }>().auth.session,
);
