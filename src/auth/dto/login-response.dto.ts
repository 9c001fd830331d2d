import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from '../../users/dto/user.dto.js';

export class LoginResponseDto {
  @ApiProperty({
    example: 'lk_9Jc2Xz0mJ2V0d1lQb3R1S0ZrZ2hYc3l6Q2ZtT0h4Q3U',
    pattern: '^lk_[A-Za-z0-9_-]{43,}$',
    description:
      'Opaque bearer token (`lk_` and at least 256 random bits, base64url), shown once. ' +
      'Send it as `Authorization: Bearer <token>`.',
  })
  token!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({
    format: 'date-time',
    example: '2025-01-16T09:30:00.000Z',
    description:
      'When the session ends unless used before: the sooner of the idle and absolute timeouts.',
  })
  expiresAt!: string;

  @ApiProperty({ type: UserDto })
  user!: UserDto;
}
