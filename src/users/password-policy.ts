import { Inject, Injectable } from '@nestjs/common';
import { Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { type PasswordsConfig, passwordsConfig } from '../config/passwords.config.js';
import { codePoints } from '../common/validation.js';

export const PASSWORD_MAX_LENGTH = 128;

/**
 * The rules a new password must meet. Lengths count code points; nothing is trimmed or case-folded,
 * and there are no composition rules. A provider, so its rules can come from configuration.
 */
@ValidatorConstraint({ name: 'passwordPolicy' })
@Injectable()
export class PasswordPolicy implements ValidatorConstraintInterface {
  private readonly minLength: number;

  constructor(@Inject(passwordsConfig.KEY) config: PasswordsConfig) {
    this.minLength = config.minLength;
  }

  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    const length = codePoints(value);
    return length >= this.minLength && length <= PASSWORD_MAX_LENGTH;
  }

  defaultMessage(): string {
    return `must be a string of ${this.minLength} to ${PASSWORD_MAX_LENGTH} characters`;
  }
}

export const IsAcceptablePassword = () => Validate(PasswordPolicy);
