import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { LengthInCodePoints } from '../../common/validation.js';
import { EmailField, PasswordField } from '../../users/dto/user-fields.js';

const TOKEN_EXAMPLE = 'lkv_4yH2oQm3Xb8sXz0c8hB6n0aV9cR1tYqWm2pL7eK5dJ0';

/** A token from a link: only its type and size are checked; anything else wrong is one 400. */
const MailedToken = (description: string) =>
  applyDecorators(
    ApiProperty({ example: TOKEN_EXAMPLE, minLength: 1, maxLength: 200, description }),
    LengthInCodePoints(1, 200),
    IsString(),
  );

export class VerifyEmailDto {
  @MailedToken('The `token` query parameter of the link in the verification message.')
  token!: string;
}

export class ForgotPasswordDto {
  @EmailField()
  email!: string;
}

export class ResetPasswordDto {
  @MailedToken('The `token` query parameter of the link in the reset message.')
  token!: string;

  @PasswordField()
  password!: string;
}

/** The answer of a request whose work happens later, by mail. */
export class AcceptedDto {
  @ApiProperty({ enum: ['accepted'], example: 'accepted' })
  @IsIn(['accepted'])
  status!: 'accepted';
}

/** Enumeration-safe registration's answer, the same for a new and a taken email. */
export class PendingVerificationDto {
  @ApiProperty({ enum: ['pending_verification'], example: 'pending_verification' })
  @IsIn(['pending_verification'])
  status!: 'pending_verification';
}
