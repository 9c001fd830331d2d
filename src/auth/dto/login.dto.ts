import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../common/validation.js';
import { EMAIL_MAX_LENGTH, PresentedPasswordField } from '../../users/dto/user-fields.js';

/** Only types and sizes are checked here: anything else wrong is the same 401 as a wrong password. */
export class LoginDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: EMAIL_MAX_LENGTH })
  @Trim()
  @MaxLength(EMAIL_MAX_LENGTH)
  @IsNotEmpty()
  @IsString()
  email!: string;

  @PresentedPasswordField('The account password, exactly as set.')
  password!: string;
}
