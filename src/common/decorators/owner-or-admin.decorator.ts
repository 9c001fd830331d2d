import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ApiProblems } from '../openapi.js';

export const OWNER_PARAM_KEY = 'latchkey:owner-param';

/**
 * Restricts a route to the user whose id is in the path parameter `param`, or an admin.
 * AuthGuard enforces it (after authentication, before body validation), so handlers never repeat it.
 */
export const OwnerOrAdmin = (param = 'id') =>
  applyDecorators(
    SetMetadata(OWNER_PARAM_KEY, param),
    ApiParam({
      name: param,
      format: 'uuid',
      description: 'A user id, in any case; yours unless you are an admin.',
    }),
    ApiProblems(403),
  );
