import { QueryFailedError } from 'typeorm';
import { isDependencyFailure } from '../common/dependency-failure.js';
import { ProblemException } from '../common/problem.exception.js';
import type { UniqueViolations } from '../common/unique-violations.js';

/** A failure the person at the terminal can fix: printed as its message alone. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** The one line a failed command prints: what went wrong, in the words the API would use. */
export function describeFailure(error: unknown, violations: UniqueViolations): string {
  if (error instanceof CommandError) return error.message;
  if (error instanceof ProblemException) return error.detail;
  if (isDependencyFailure(error))
    return `The database is unavailable (${(error as Error).message}); check DATABASE_URL and retry`;
  if (error instanceof QueryFailedError) {
    const constraint = (error.driverError as { constraint?: string }).constraint;
    const problem = constraint && violations.problemFor(constraint);
    if (problem) return problem.detail;
  }
  return (error as Error).message;
}

/**
 * Runs a command's work: its result is the command's output on stdout (not a log line, so not
 * through the logger, whose level and format would change it); on failure, one line on stderr and
 * a non-zero exit code (set, not exited, so the application still closes its pools).
 */
export async function reporting(
  violations: UniqueViolations,
  work: () => Promise<string>,
): Promise<void> {
  try {
    process.stdout.write(`${await work()}\n`);
  } catch (error) {
    process.stderr.write(`error: ${describeFailure(error, violations)}\n`);
    process.exitCode = 1;
  }
}
