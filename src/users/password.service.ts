import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { argon2id, hash, type HashOptions, needsRehash, verify } from 'argon2';
import { UNPAIRED_SURROGATE } from '../common/validation.js';
import { type PasswordsConfig, passwordsConfig } from '../config/passwords.config.js';

/** argon2id hashing with the configured cost; the parameters travel inside each hash. */
@Injectable()
export class PasswordService implements OnModuleInit {
  private readonly options: HashOptions;
  private dummyHash?: Promise<string>;

  constructor(@Inject(passwordsConfig.KEY) config: PasswordsConfig) {
    this.options = { type: argon2id, ...config.argon2 };
  }

  /** Made at start-up, so the first login to an unknown email costs no more than any other. */
  async onModuleInit(): Promise<void> {
    await this.dummy();
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(storedHash: string, password: string): Promise<boolean> {
    // Its UTF-8 form would replace an unpaired surrogate with U+FFFD, matching another password.
    if (UNPAIRED_SURROGATE.test(password)) return false;
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  }

  /**
   * Spends the same time as a real verification, for logins to unknown emails, so response time
   * does not reveal which emails have accounts.
   */
  async verifyDummy(password: string): Promise<void> {
    await this.verify(await this.dummy(), password);
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash('latchkey dummy password, never matches a stored hash');
    return this.dummyHash;
  }

  /**
   * True for hashes made with another algorithm or other parameters than configured now, so a change
   * of the ARGON2_* settings reaches each stored hash at its user's next login.
   */
  needsRehash(storedHash: string): boolean {
    return !storedHash.startsWith('$argon2id$') || needsRehash(storedHash, this.options);
  }
}
