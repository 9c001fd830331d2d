import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'latchkey:public';

/** Opts a route out of the global AuthGuard, which otherwise requires a valid bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
