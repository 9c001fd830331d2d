import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblem } from '../common/openapi.js';
import { CurrentSession } from '../sessions/current-session.decorator.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { AccountsService } from '../users/accounts.service.js';
import { UserDto } from '../users/dto/user.dto.js';
import { AuthService } from './auth.service.js';
import { LoginResponseDto } from './dto/login-response.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RegisterDto } from './dto/register.dto.js';

/** The account the examples make; the login and PATCH examples work on it as shown. */
const ADA = { email: 'ada@example.com', password: 'correct horse battery staple' };

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
    operationId: 'register',
    security: [],
    summary: 'Create an account',
    description:
      'The email is trimmed and lower-cased; `Ada@Example.com ` and `ada@example.com` are one account. ' +
      'Unknown fields (such as `role`) are refused with 400.',
  })
  @ApiBody({
    type: RegisterDto,
    examples: { ada: { summary: 'A new account', value: { ...ADA, name: 'Ada' } } },
  })
  @ApiCreatedResponse({
    type: UserDto,
    description: 'Created: the new account.',
    headers: {
      Location: {
        description: 'The new user: `/users/{id}`.',
        required: true,
        schema: { type: 'string', format: 'uri-reference', pattern: '^/users/[0-9a-f-]{36}$' },
        example: '/users/6f1c2a5e-3b7d-4c8e-9f10-2a3b4c5d6e7f',
      },
    },
  })
  @ApiProblem(409, 'An account has this email already, in any case (`email_taken`).')
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
    operationId: 'login',
    security: [],
    summary: 'Log in and receive a session token',
    description:
      'An unknown email and a wrong password get the same 401 `invalid_credentials`, in about the same time. ' +
      'Only types and lengths are validated (400); anything else wrong is that 401.',
  })
  @ApiBody({
    type: LoginDto,
    examples: { ada: { summary: 'The account of the register example', value: ADA } },
  })
  @ApiOkResponse({ type: LoginResponseDto, description: 'Logged in: a new session.' })
  @ApiProblem(401, 'Unknown email or wrong password, one answer for both (`invalid_credentials`).')
  login(@Body() body: LoginDto, @Req() request: Request): Promise<LoginResponseDto> {
    return this.auth.login(body, { ip: request.ip, userAgent: request.get('user-agent') });
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    operationId: 'logout',
    summary: 'End the session of this token',
    description: 'The token is refused from now on.',
  })
  @ApiNoContentResponse({ description: 'Logged out.' })
  async logout(@CurrentSession() session: Session): Promise<void> {
    await this.sessions.end(session.userId, session.id);
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    operationId: 'logoutAll',
    summary: 'End every session of your account, this one included',
    description:
      'Every token of the account is refused from now on, on every instance, including the token of a ' +
      'login that was in flight at that moment.',
  })
  @ApiNoContentResponse({ description: 'All sessions ended.' })
  async logoutAll(@CurrentSession() session: Session): Promise<void> {
    await this.accounts.endAllSessions(session.userId);
  }
}
