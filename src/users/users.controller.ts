import { Body, Controller, Delete, Get, HttpCode, Param, Patch } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { OwnerOrAdmin } from '../common/decorators/owner-or-admin.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { CurrentSession } from '../sessions/current-session.decorator.js';
import type { Session } from '../sessions/session.js';
import { AccountsService } from './accounts.service.js';
import { CurrentUser } from './current-user.decorator.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { UserDto } from './dto/user.dto.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth('bearer')
@ApiProblems(401)
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly accounts: AccountsService,
  ) {}

  @Get('me')
  @ApiOperation({ summary: 'The account of the token in use' })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() user: User): UserDto {
    return UserDto.from(user);
  }

  @Get(':id')
  @OwnerOrAdmin()
  @ApiOperation({ summary: 'A user by id: your own (admins: any)' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 404)
  async findOne(@Param('id') id: string): Promise<UserDto> {
    return UserDto.from(await this.users.getById(id));
  }

  @Patch(':id')
  @OwnerOrAdmin()
  @ApiOperation({
    summary: 'Change email, password or name',
    description:
      'Changing your own email or password needs `currentPassword` (else 400 `invalid_current_password`, ' +
      'checked before the email is tested for uniqueness). Setting the email to the same address in another case ' +
      'is no change. A real email change sets `emailVerified` to false. A password change keeps this session ' +
      'and ends every other session of the user, including any that a login in flight at that moment would ' +
      'start. Absent fields are left as they are; `name: null` clears the name. 404 when the account was ' +
      'deleted meanwhile; 409 `conflict` when its password changed while this request ran.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(404, 409)
  async update(
    @Param('id') id: string,
    @Body() changes: UpdateUserDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
  ): Promise<UserDto> {
    return UserDto.from(await this.accounts.update(id, changes, { user, session }));
  }

  @Delete(':id')
  @OwnerOrAdmin()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an account',
    description: 'Every session of the user ends at once, and the email can be registered again.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(400, 404)
  async remove(@Param('id') id: string): Promise<void> {
    await this.accounts.remove(id);
  }
}
