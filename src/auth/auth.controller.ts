import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { CurrentSession } from '../sessions/current-session.decorator.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { AccountsService } from '../users/accounts.service.js';
import { UserDto } from '../users/dto/user.dto.js';
import { AuthService } from './auth.service.js';
import { LoginResponseDto } from './dto/login-response.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RegisterDto } from './dto/register.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly accounts: AccountsService,
    private readonly sessions: SessionsService,
  ) {}

  @Public()
  @Post('register')
  @ApiOperation({
    summary: 'Create an account',
    description:
      'The email is trimmed and lower-cased; `Ada@Example.com ` and `ada@example.com` are one account. ' +
      'Unknown fields (such as `role`) are refused with 400.',
  })
  @ApiCreatedResponse({ type: UserDto, description: 'Created; `Location` names the new user.' })
  @ApiProblems(409)
  async register(
    @Body() body: RegisterDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UserDto> {
    const user = await this.accounts.register(body);
    response.location(`/users/${user.id}`);
    return UserDto.from(user);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in and receive a session token',
    description:
      'An unknown email and a wrong password get the same 401 `invalid_credentials`, in about the same time.',
  })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiProblems(401)
  login(@Body() body: LoginDto, @Req() request: Request): Promise<LoginResponseDto> {
    return this.auth.login(body, { ip: request.ip, userAgent: request.get('user-agent') });
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'End the session of this token',
    description: 'The token is refused from now on.',
  })
  @ApiNoContentResponse({ description: 'Logged out.' })
  @ApiProblems(401)
  async logout(@CurrentSession() session: Session): Promise<void> {
    await this.sessions.end(session.userId, session.id);
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'End every session of your account, this one included',
    description:
      'Every token of the account is refused from now on, on every instance, including the token of a ' +
      'login that was in flight at that moment.',
  })
  @ApiNoContentResponse({ description: 'All sessions ended.' })
  @ApiProblems(401)
  async logoutAll(@CurrentSession() session: Session): Promise<void> {
    await this.accounts.endAllSessions(session.userId);
  }
}
