import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const NO_RATE_LIMIT_KEY = 'latchkey:no-rate-limit';
/** The OpenAPI extension that keeps withCommonProblems from documenting a 429. */
export const NO_RATE_LIMIT_EXTENSION = 'x-no-rate-limit';

/**
 * Opts routes out of the general per-IP limit: health probes, which load balancers and
 * orchestrators send from few addresses, often and on purpose.
 */
export const NoRateLimit = () =>
  applyDecorators(
    SetMetadata(NO_RATE_LIMIT_KEY, true),
    ApiExtension(NO_RATE_LIMIT_EXTENSION, true),
  );
