import { Injectable } from '@nestjs/common';
import type { Problem } from './problem-details.filter.js';

/**
 * Unique constraints whose violation is the client's doing (a 409, say), by constraint name.
 * Common code knows no feature's tables, so each feature registers its own at start-up (in its
 * module's onModuleInit); ProblemDetailsFilter answers any other violation with a 500.
 */
@Injectable()
export class UniqueViolations {
  private readonly problems = new Map<string, Problem>();

  register(constraint: string, problem: Problem): void {
    // Two features claiming one constraint is a wiring mistake; refuse it rather than pick one.
    if (this.problems.has(constraint))
      throw new Error(`Unique constraint ${constraint} is already registered`);
    this.problems.set(constraint, problem);
  }

  problemFor(constraint: string): Problem | undefined {
    return this.problems.get(constraint);
  }
}
