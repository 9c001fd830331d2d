import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { User } from './user.entity.js';

/** The authenticated user of this request (routes behind AuthGuard only). */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<Request & { auth: { user: User } }>().auth.user,
);
