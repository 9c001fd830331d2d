import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { LengthInCodePoints, Trim } from '../../common/validation.js';
import { EMAIL_MAX_LENGTH, PresentedPasswordField } from '../../users/dto/user-fields.js';

/** Only types and sizes are checked here: anything else wrong is the same 401 as a wrong password. */
export class LoginDto {
  @ApiProperty({
    example: 'ada@example.com',
    minLength: 1,
    maxLength: EMAIL_MAX_LENGTH,
    description: 'Not empty after trimming; anything that is no account’s email is a 401.',
  })
  @Trim()
  @LengthInCodePoints(1, EMAIL_MAX_LENGTH)
  @IsString()
  email!: string;

  @PresentedPasswordField('The account password, exactly as set.')
  password!: string;
}
