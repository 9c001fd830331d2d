import { Body, Controller, Delete, Get, HttpCode, Param, Patch } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type Origin, RequestOrigin } from '../audit/origin.js';
import { OwnerOrAdmin } from '../common/decorators/owner-or-admin.decorator.js';
import { ApiProblem } from '../common/openapi.js';
import { CurrentSession } from '../sessions/current-session.decorator.js';
import type { Session } from '../sessions/session.js';
import { AccountsService } from './accounts.service.js';
import { CurrentUser } from './current-user.decorator.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { UserDto } from './dto/user.dto.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

/** The password of the account the register example makes, which these examples change. */
const EXAMPLE_PASSWORD = 'correct horse battery staple';

const ADMINS_ONLY_404 =
  'Admins only: no user with this id (`not_found`); anyone else gets 403 for an id not their own.';

@ApiTags('users')
@ApiBearerAuth('bearer')
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly accounts: AccountsService,
  ) {}

  @Get('me')
  @ApiOperation({ operationId: 'getMe', summary: 'The account of the token in use' })
  @ApiOkResponse({ type: UserDto, description: 'Your account.' })
  me(@CurrentUser() user: User): UserDto {
    return UserDto.from(user);
  }

  @Get(':id')
  @OwnerOrAdmin()
  @ApiOperation({ operationId: 'getUser', summary: 'A user by id: your own (admins: any)' })
  @ApiOkResponse({ type: UserDto, description: 'The user.' })
  @ApiProblem(404, ADMINS_ONLY_404)
  async findOne(@Param('id') id: string): Promise<UserDto> {
    return UserDto.from(await this.users.getById(id));
  }

  @Patch(':id')
  @OwnerOrAdmin()
  @ApiOperation({
    operationId: 'updateUser',
    summary: 'Change email, password or name',
    description:
      'Changing your own email or password needs `currentPassword` (else 400 `invalid_current_password`, ' +
      'checked before the email is tested for uniqueness). Setting the email to the same address in another case ' +
      'is no change. A real email change sets `emailVerified` to false. A password change keeps this session ' +
      'and ends every other session of the user, including any that a login in flight at that moment would ' +
      'start. Absent fields are left as they are; `name: null` clears the name. When your session ends while ' +
      'this request runs (a logout, your account deleted, your password changed elsewhere), it changes nothing ' +
      'and answers 401 `invalid_token`. For an admin, 404 when the account was deleted meanwhile and 409 ' +
      '`conflict` when its password changed while this request ran.',
  })
  @ApiBody({
    type: UpdateUserDto,
    description: 'The examples work as shown on the account that the register example makes.',
    examples: {
      rename: { summary: 'Change the name', value: { name: 'Ada Lovelace' } },
      clearName: { summary: 'Clear the name', value: { name: null } },
      changeEmail: {
        summary: 'Change the email (needs the current password)',
        value: { email: 'ada.lovelace@example.com', currentPassword: EXAMPLE_PASSWORD },
      },
      changePassword: {
        summary: 'Change the password (ends your other sessions)',
        value: { password: 'analytical engine 1843', currentPassword: EXAMPLE_PASSWORD },
      },
    },
  })
  @ApiOkResponse({ type: UserDto, description: 'The account as changed.' })
  @ApiProblem(
    400,
    'Invalid fields (`validation_failed`), a missing or wrong `currentPassword` for an email or ' +
      'password change (`invalid_current_password`), a malformed id or a malformed body (`malformed_json`).',
  )
  @ApiProblem(404, 'No such account: an admin’s target, deleted or never there (`not_found`).')
  @ApiProblem(
    409,
    'The new email belongs to another account (`email_taken`), or the password of an admin’s target ' +
      'changed while this request ran (`conflict`).',
  )
  async update(
    @Param('id') id: string,
    @Body() changes: UpdateUserDto,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @RequestOrigin() origin: Origin,
  ): Promise<UserDto> {
    return UserDto.from(await this.accounts.update(id, changes, { user, session }, origin));
  }

  @Delete(':id')
  @OwnerOrAdmin()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteUser',
    summary: 'Delete an account',
    description: 'Every session of the user ends at once, and the email can be registered again.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblem(404, ADMINS_ONLY_404)
  async remove(
    @Param('id') id: string,
    @CurrentSession() session: Session,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.accounts.remove(id, session, origin);
  }
}
