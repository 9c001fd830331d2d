import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Where a change comes from, as the audit log records it. */
export interface Origin {
  /** The authenticated user making the request; null when anonymous or on the command line. */
  actorId: string | null;
  ip: string | null;
  requestId: string | null;
}

/** The command line: no user, no address, no request. */
export const COMMAND_LINE: Origin = { actorId: null, ip: null, requestId: null };

/** Only the fields read here: audit/ stays below auth/, which attaches `auth` to the request. */
type OriginRequest = Request & { id?: string; auth?: { user: { id: string } } };

/** The Origin of this request: its user (when the guard accepted a token), client IP and X-Request-Id. */
export const RequestOrigin = createParamDecorator(
  (_: unknown, context: ExecutionContext): Origin => {
    const request = context.switchToHttp().getRequest<OriginRequest>();
    return {
      actorId: request.auth?.user.id ?? null,
      ip: request.ip ?? null,
      requestId: request.id ?? null,
    };
  },
);
