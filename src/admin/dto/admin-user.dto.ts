import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn } from 'class-validator';
import { UserDto } from '../../users/dto/user.dto.js';
import { USER_ROLES, type User, type UserRole } from '../../users/user.entity.js';
import { Optional, PageDto } from './page.dto.js';

/** A user as admins see it: the public view and whether the account is disabled. */
export class AdminUserDto extends UserDto {
  @ApiProperty({ example: false, description: 'A disabled account cannot log in.' })
  disabled!: boolean;

  static override from(user: User): AdminUserDto {
    return { ...UserDto.from(user), disabled: user.disabled };
  }
}

export class AdminUserPageDto extends PageDto {
  @ApiProperty({ type: [AdminUserDto] })
  items!: AdminUserDto[];
}

export class AdminUpdateUserDto {
  @ApiPropertyOptional({
    enum: USER_ROLES,
    description: 'Demoting ends every session of the account.',
  })
  @IsIn(USER_ROLES, { message: `must be one of ${USER_ROLES.join(', ')}` })
  @Optional()
  role?: UserRole;

  @ApiPropertyOptional({
    description:
      'true: the account cannot log in, and every session of it ends at once. false: it can log in again.',
  })
  @IsBoolean({ message: 'must be true or false' })
  @Optional()
  disabled?: boolean;
}
