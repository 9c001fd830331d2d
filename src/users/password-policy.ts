import { Inject, Injectable } from '@nestjs/common';
import {
  Validate,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { type PasswordsConfig, passwordsConfig } from '../config/passwords.config.js';
import { codePoints } from '../common/validation.js';
import { blocklistReason } from './password-blocklist.js';

export const PASSWORD_MAX_LENGTH = 128;

/** The email of the same body (register, or a PATCH that changes it), whose local part is checked. */
const emailsOf = (args?: ValidationArguments) => {
  const email = (args?.object as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? [email] : [];
};

/**
 * The rules a new password must meet. Lengths count code points; nothing is trimmed or case-folded,
 * and there are no composition rules; the blocklist refuses common passwords and ones built on the
 * service's name or the email. A provider, so its rules can come from configuration.
 */
@ValidatorConstraint({ name: 'passwordPolicy' })
@Injectable()
export class PasswordPolicy implements ValidatorConstraintInterface {
  private readonly minLength: number;

  constructor(@Inject(passwordsConfig.KEY) config: PasswordsConfig) {
    this.minLength = config.minLength;
  }

  validate(value: unknown, args?: ValidationArguments): boolean {
    return this.reason(value, args) === undefined;
  }

  defaultMessage(args?: ValidationArguments): string {
    return this.reason(args?.value, args) ?? this.lengthMessage();
  }

  private reason(value: unknown, args?: ValidationArguments): string | undefined {
    if (typeof value !== 'string') return this.lengthMessage();
    const length = codePoints(value);
    if (length < this.minLength || length > PASSWORD_MAX_LENGTH) return this.lengthMessage();
    return blocklistReason(value, emailsOf(args));
  }

  private lengthMessage(): string {
    return `must be a string of ${this.minLength} to ${PASSWORD_MAX_LENGTH} characters`;
  }
}

export const IsAcceptablePassword = () => Validate(PasswordPolicy);
