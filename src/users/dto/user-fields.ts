import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength, ValidateIf } from 'class-validator';
import { LengthInCodePoints, NoControlCharacters, Trim } from '../../common/validation.js';
import { IsAcceptablePassword, PASSWORD_MAX_LENGTH } from '../password-policy.js';

export const EMAIL_MAX_LENGTH = 254;

/** Emails are compared and stored trimmed and lower-cased. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Absent is fine; null is not a value for these fields, so it is validated (and refused). */
const Optional = () => ValidateIf((_, value) => value !== undefined);

const NormalizeEmail = () =>
  Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value));

/** Shared by register and update: one definition of what a valid email, password and name are. */
export const EmailField = ({ optional = false } = {}) =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      example: 'ada@example.com',
      maxLength: EMAIL_MAX_LENGTH,
      description: 'Trimmed and lower-cased before use; unique per account.',
    }),
    ...(optional ? [Optional()] : []),
    NormalizeEmail(),
    IsString(),
    MaxLength(EMAIL_MAX_LENGTH),
    NoControlCharacters(),
    IsEmail({}, { message: 'must be an email address' }),
  );

export const PasswordField = ({ optional = false } = {}) =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      example: 'correct horse battery staple',
      format: 'password',
      maxLength: PASSWORD_MAX_LENGTH,
      description:
        'PASSWORD_MIN_LENGTH (default 12) to 128 characters (code points); any characters; used exactly as sent.',
    }),
    ...(optional ? [Optional()] : []),
    IsAcceptablePassword(),
  );

export const NameField = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: String,
      nullable: true,
      example: 'Ada',
      maxLength: 100,
      description: 'Display name, 1–100 characters after trimming; null clears it.',
    }),
    Trim(),
    ValidateIf((_, value) => value !== null && value !== undefined),
    IsString(),
    LengthInCodePoints(1, 100),
    NoControlCharacters(),
  );

/** A password presented for checking (login, current password): only its type and size are checked. */
export const PresentedPasswordField = (description: string, { optional = false } = {}) =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      format: 'password',
      maxLength: PASSWORD_MAX_LENGTH,
      description,
    }),
    ...(optional ? [Optional()] : []),
    IsString(),
    LengthInCodePoints(0, PASSWORD_MAX_LENGTH),
  );
