import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiParam } from '@nestjs/swagger';
import { ApiProblems } from '../openapi.js';

export const ROLES_KEY = 'latchkey:roles';
export const PATH_IDS_KEY = 'latchkey:path-ids';

/**
 * Restricts a route, or every route of a controller, to users with one of `roles`; `@Roles()`
 * with none lets nobody in. AuthGuard enforces it (after authentication and the path ids, before
 * body validation), and the OpenAPI document shows the bearer requirement and the 403 with it.
 */
export const Roles = (...roles: string[]) =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), ApiBearerAuth('bearer'), ApiProblems(403));

/**
 * Path parameters that are ids: AuthGuard checks them (400 for a malformed one) before it checks
 * the role, as the contract orders it, and hands the handler each id lower-cased.
 */
export const PathIds = (...names: string[]) =>
  applyDecorators(
    SetMetadata(PATH_IDS_KEY, names),
    ...names.map((name) =>
      ApiParam({ name, format: 'uuid', description: 'A user id, in any case.' }),
    ),
  );
