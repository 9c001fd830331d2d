import { appendFileSync } from 'node:fs';

/**
 * Names the file (in a temp folder of global setup) where test helpers write down every password
 * and token the run used, one JSON string a line, for the data-at-rest check of global teardown.
 */
export const SECRETS_FILE = 'LATCHKEY_E2E_SECRETS_FILE';

/** Shorter strings are no secret worth the name (and would match ordinary data by chance). */
const MIN_LENGTH = 8;

export function recordSecrets(...values: unknown[]): void {
  const file = process.env[SECRETS_FILE];
  if (!file) return;
  const lines = values
    .filter((value): value is string => typeof value === 'string' && value.length >= MIN_LENGTH)
    .map((value) => `${JSON.stringify(value)}\n`)
    .join('');
  // One append per call: O_APPEND keeps lines of parallel test files whole.
  if (lines) appendFileSync(file, lines);
}

/** The passwords of a request body the service accepted, and the token of its answer. */
export function recordExchange(request: unknown, status: number, response: unknown): void {
  const field = (body: unknown, name: string) =>
    body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (status < 300) {
    recordSecrets(
      field(request, 'password'),
      field(request, 'currentPassword'),
      field(request, 'token'),
    );
  }
  recordSecrets(field(response, 'token'));
}
