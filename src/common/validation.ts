import {
  type ArgumentMetadata,
  Injectable,
  type PipeTransform,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import { Transform } from 'class-transformer';
import { isUUID, ValidateBy, type ValidationOptions } from 'class-validator';
import { type FieldError, ProblemException, validationFailed } from './problem.exception.js';

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

/** An unpaired UTF-16 surrogate (category Cs): not a character, and no UTF-8 form keeps it. */
export const UNPAIRED_SURROGATE = /\p{Cs}/u;

/**
 * Refuses strings with any character `pattern` matches (a `u`-flag class, so a lone surrogate is
 * seen as one); anything that is not a string is left to the type validators.
 */
export const ExcludesCharacters = (name: string, pattern: RegExp, message: string) =>
  ValidateBy({
    name,
    validator: {
      validate: (value) => typeof value !== 'string' || !pattern.test(value),
      defaultMessage: () => message,
    },
  });

/** Trims strings; leaves anything else for the type validators to reject. */
export const Trim = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/** Enough for a client to fix a body; a flood of unknown keys is not echoed back in full. */
/** What `errors` of a 400 holds at most, so a body of junk cannot make a huge answer. */
export const MAX_FIELD_ERRORS = 20;

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

const notAllowed = (field: string): FieldError => ({ field, message: 'is not an allowed field' });

const failed = (errors: FieldError[]) => validationFailed(errors.slice(0, MAX_FIELD_ERRORS));

/** Keys that Nest strips before class-transformer sees them, so whitelisting never reports them. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * Unknown fields are errors, not silently dropped; every failure is one 400 listing each field.
 * Prototype keys are unknown fields too: ValidationPipe drops them unseen, so they are noted first.
 */
@Injectable()
class BodyValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const prototypeKeys =
      metadata.type === 'body' && typeof value === 'object' && value !== null
        ? PROTOTYPE_KEYS.filter((key) => Object.hasOwn(value, key)).map(notAllowed)
        : [];
    if (prototypeKeys.length === 0) return super.transform(value, metadata);
    let others: FieldError[] = [];
    try {
      await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof ProblemException) || !error.extras.errors) throw error;
      others = error.extras.errors;
    }
    throw failed([...prototypeKeys, ...others]);
  }
}

export const createValidationPipe = () =>
  new BodyValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // One message per field: "must be a string" says it all, without "and at most 254 characters".
    stopAtFirstError: true,
    exceptionFactory: (errors) => failed(flatten(errors)),
  });

const malformedId = (field: string) => validationFailed([{ field, message: 'must be a UUID' }]);

/** A UUID from a path, lower-cased: ids compare case-insensitively and are stored lower-case. */
export function parseId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isUUID(value)) throw malformedId(field);
  return value.toLowerCase();
}

/** For `@Param('id', UuidPipe)`: a malformed id is a 400 validation_failed naming the parameter. */
@Injectable()
class ParseIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, { data }: ArgumentMetadata): string {
    return parseId(value, data ?? 'id');
  }
}

export const UuidPipe = new ParseIdPipe();
