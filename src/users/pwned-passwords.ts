import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RETRY_AFTER_SECONDS } from '../common/dependency-failure.js';
import { ProblemException } from '../common/problem.exception.js';
import { type PasswordsConfig, passwordsConfig } from '../config/passwords.config.js';

/** Answer lines are `SUFFIX:COUNT`; padding lines (Add-Padding) have a count of 0. */
const LINE = /^([0-9A-F]{35}):(\d+)\s*$/i;

/**
 * The breached-password check against a k-anonymity range API (PWNED_PASSWORDS_URL): only the first
 * 5 hex digits of the password's SHA-1 are sent, and the answer lists every breached suffix under
 * them. Off when no URL is set. A range API that fails or does not answer within
 * PWNED_PASSWORDS_TIMEOUT is handled as PWNED_PASSWORDS_ON_ERROR says: `accept` (fail open, logged)
 * or `refuse` (503, so no password is set unchecked).
 */
@Injectable()
export class PwnedPasswords {
  private readonly logger = new Logger('PwnedPasswords');
  private readonly config: PasswordsConfig['pwned'];

  constructor(@Inject(passwordsConfig.KEY) config: PasswordsConfig) {
    this.config = config.pwned;
  }

  async isBreached(password: string): Promise<boolean> {
    if (!this.config.url) return false;
    const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const [prefix, suffix] = [digest.slice(0, 5), digest.slice(5)];
    try {
      const signal = AbortSignal.timeout(this.config.timeoutMs);
      const body = await this.range(prefix, signal).catch((error: Error) => {
        // A kept-alive connection the server closed meanwhile fails at once: one more try, same deadline.
        if (error.name !== 'TypeError') throw error;
        return this.range(prefix, signal);
      });
      return body.split('\n').some((line) => {
        const match = LINE.exec(line.trim());
        return match !== null && match[1].toUpperCase() === suffix && Number(match[2]) > 0;
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.config.onError === 'accept') {
        this.logger.warn(`Breached-password check skipped: the range API failed (${reason})`);
        return false;
      }
      this.logger.warn(`Breached-password check failed (${reason}): refusing the new password`);
      throw new ProblemException(
        503,
        'service_unavailable',
        'A service this request needs is not answering. Try again shortly.',
        { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      );
    }
  }

  private async range(prefix: string, signal: AbortSignal): Promise<string> {
    const response = await fetch(`${this.config.url}/${prefix}`, {
      headers: { 'Add-Padding': 'true', Accept: 'text/plain' },
      signal,
    });
    if (!response.ok) throw new Error(`it answered ${response.status}`);
    return response.text();
  }
}
