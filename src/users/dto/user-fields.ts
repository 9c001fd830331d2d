import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, ValidateIf } from 'class-validator';
import {
  ExcludesCharacters,
  LengthInCodePoints,
  Trim,
  UNPAIRED_SURROGATE,
} from '../../common/validation.js';
import { IsAcceptablePassword, PASSWORD_MAX_LENGTH } from '../password-policy.js';

export const EMAIL_MAX_LENGTH = 254;

/**
 * Emails are compared and stored trimmed, NFC-normalized and lower-cased, so one address typed with
 * a precomposed or a combining accent is one account.
 */
export const normalizeEmail = (email: string) => email.trim().normalize('NFC').toLowerCase();

/** Control, format (zero-width, bidi) and surrogate characters: no stored email has one. */
const NOT_IN_EMAILS = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/** True for a string that no account's email can be (PostgreSQL would even refuse its NUL). */
export const cannotBeAnEmail = (email: string) => NOT_IN_EMAILS.test(email);

/** Control and surrogate characters, and the bidi overrides and isolates that reorder a name's display. */
const NOT_IN_NAMES = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

/** Absent is fine; null is not a value for these fields, so it is validated (and refused). */
const Optional = () => ValidateIf((_, value) => value !== undefined);

const NormalizeEmail = () =>
  Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value));

/** A password is used exactly as sent, so it must have an exact UTF-8 form. */
const WellFormed = () =>
  ExcludesCharacters(
    'wellFormedUnicode',
    UNPAIRED_SURROGATE,
    'must be well-formed Unicode (no unpaired surrogates)',
  );

/** Shared by register and update: one definition of what a valid email, password and name are. */
export const EmailField = ({ optional = false } = {}) =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      example: 'ada@example.com',
      format: 'email',
      maxLength: EMAIL_MAX_LENGTH,
      description:
        'Trimmed, NFC-normalized and lower-cased before use; unique per account. No control, ' +
        'format (zero-width, bidi) or unpaired surrogate characters. ' +
        'Addresses with non-ASCII characters (`idn-email`) are accepted too.',
    }),
    ...(optional ? [Optional()] : []),
    NormalizeEmail(),
    IsString(),
    LengthInCodePoints(0, EMAIL_MAX_LENGTH),
    // Before IsEmail, which throws on an unpaired surrogate.
    ExcludesCharacters(
      'emailCharacters',
      NOT_IN_EMAILS,
      'must not contain control, invisible formatting (zero-width, bidi) or unpaired surrogate characters',
    ),
    IsEmail({}, { message: 'must be an email address' }),
  );

export const PasswordField = ({ optional = false } = {}) =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      example: 'correct horse battery staple',
      format: 'password',
      minLength: 12,
      maxLength: PASSWORD_MAX_LENGTH,
      description:
        'PASSWORD_MIN_LENGTH (default 12) to 128 characters (code points); any characters, but ' +
        'well-formed Unicode (no unpaired surrogates); used exactly as sent. Refused (400, with the ' +
        'reason) when it is one of the most common passwords (in any case), contains the service ' +
        'name `latchkey` or the local part of the account’s email, or, where the service checks, ' +
        'appears in a data breach.',
    }),
    ...(optional ? [Optional()] : []),
    WellFormed(),
    IsAcceptablePassword(),
  );

export const NameField = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: String,
      nullable: true,
      example: 'Ada',
      minLength: 1,
      maxLength: 100,
      description:
        'Display name, 1–100 characters after trimming, without control characters, unpaired ' +
        'surrogates or bidi override/isolate controls; null clears it.',
    }),
    Trim(),
    ValidateIf((_, value) => value !== null && value !== undefined),
    IsString(),
    LengthInCodePoints(1, 100),
    ExcludesCharacters(
      'nameCharacters',
      NOT_IN_NAMES,
      'must not contain control characters, bidi override or isolate controls, or unpaired surrogates',
    ),
  );

/** A password presented for checking (login, current password): only its type and size are checked. */
export const PresentedPasswordField = (description: string, { optional = false } = {}) =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      format: 'password',
      maxLength: PASSWORD_MAX_LENGTH,
      example: 'correct horse battery staple',
      description,
    }),
    ...(optional ? [Optional()] : []),
    IsString(),
    LengthInCodePoints(0, PASSWORD_MAX_LENGTH),
  );
