import { ApiProperty } from '@nestjs/swagger';
import { EMAIL_MAX_LENGTH } from './user-fields.js';
import { USER_ROLES, type User, type UserRole } from '../user.entity.js';

/** The public view of a user: an allowlist, so a hash can never leak through a new column. */
export class UserDto {
  @ApiProperty({
    format: 'uuid',
    example: '6f1c2a5e-3b7d-4c8e-9f10-2a3b4c5d6e7f',
    description: 'Always lower case.',
  })
  id!: string;

  // No `format: email`: an address with non-ASCII characters is valid here, and that format is ASCII only.
  @ApiProperty({
    example: 'ada@example.com',
    maxLength: EMAIL_MAX_LENGTH,
    description: 'As stored: trimmed, NFC-normalized and lower-cased.',
  })
  email!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ada', minLength: 1, maxLength: 100 })
  name!: string | null;

  @ApiProperty({
    example: false,
    description: 'False after registration and after a change of email, until verified.',
  })
  emailVerified!: boolean;

  @ApiProperty({ enum: USER_ROLES, example: 'user' })
  role!: UserRole;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T09:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T09:30:00.000Z' })
  updatedAt!: string;

  static from(user: User): UserDto {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerified,
      role: user.role,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
    };
  }
}
