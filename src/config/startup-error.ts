/**
 * A start-up failure that the person starting the service can fix, such as a bad setting:
 * main.ts prints its message alone, without a stack, and exits non-zero.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
