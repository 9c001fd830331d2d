import { expect } from '@jest/globals';

/**
 * What would tell an attacker about the inside: stack frames, source paths, SQL, driver and library
 * names, socket errors, hashes.
 */
const INTERNALS =
  /\bat .+\(|\.[jt]s:\d+|node_modules|\/src\/|\/dist\/|\b(SELECT|INSERT|UPDATE|DELETE FROM)\b.*\b(FROM|INTO|SET|WHERE)\b|QueryFailedError|TypeORM|typeorm|ioredis|pg-pool|PostgreSQL|Redis|argon2|\$argon2|class-validator|class-transformer|express|Nest|ECONNREFUSED|ETIMEDOUT|TypeError|ReferenceError|SyntaxError|Unexpected token|stack/;

/** A problem body that reveals nothing of how the service is built. */
export function expectNoInternals(where: string, text: string): void {
  expect({ where, leaked: INTERNALS.exec(text)?.[0] }).toEqual({ where, leaked: undefined });
}
