import { ParseUUIDPipe, ValidationPipe, type ValidationError } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { type FieldError, validationFailed } from './problem.exception.js';

/** Length as a person counts it: Unicode code points, so an emoji is one character. */
export const codePoints = (value: string) => [...value].length;

export const LengthInCodePoints = (min: number, max: number, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'lengthInCodePoints',
      validator: {
        validate: (value) =>
          typeof value === 'string' && codePoints(value) >= min && codePoints(value) <= max,
        defaultMessage: () =>
          min > 0
            ? `must be between ${min} and ${max} characters`
            : `must be at most ${max} characters`,
      },
    },
    options,
  );

export const NoControlCharacters = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'noControlCharacters',
      validator: {
        validate: (value) => typeof value !== 'string' || !/\p{Cc}/u.test(value),
        defaultMessage: () => 'must not contain control characters',
      },
    },
    options,
  );

/** Trims strings; leaves anything else for the type validators to reject. */
export const Trim = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const property = error.property ?? 'body';
    const field = parent ? `${parent}.${property}` : property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({
      field,
      message:
        rule === 'whitelistValidation'
          ? 'is not an allowed field'
          : message.replace(new RegExp(`^${property} `), ''),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Unknown fields are errors, not silently dropped; every failure is one 400 listing each field. */
export const createValidationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // One message per field: "must be a string" says it all, without "and at most 254 characters".
    stopAtFirstError: true,
    exceptionFactory: (errors) => validationFailed(flatten(errors)),
  });

export const malformedId = (field: string) =>
  validationFailed([{ field, message: 'must be a UUID' }]);

/** For `@Param('id', UuidPipe)`: a malformed id is a 400 validation_failed naming the parameter. */
export const UuidPipe = new ParseUUIDPipe({ exceptionFactory: () => malformedId('id') });
