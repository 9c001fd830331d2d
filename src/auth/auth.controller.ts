import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditLog } from '../audit/audit-log.service.js';
import { type Origin, RequestOrigin } from '../audit/origin.js';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblem } from '../common/openapi.js';
import { type MailConfig, mailConfig } from '../config/mail.config.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { digestKey, RateLimits } from '../rate-limit/rate-limits.service.js';
import { CurrentSession } from '../sessions/current-session.decorator.js';
import type { Session } from '../sessions/session.js';
import { SessionFence } from '../sessions/session-fence.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { AccountsService } from '../users/accounts.service.js';
import { CurrentUser } from '../users/current-user.decorator.js';
import { UserDto } from '../users/dto/user.dto.js';
import type { User } from '../users/user.entity.js';
import { AuthService } from './auth.service.js';
import {
  AcceptedDto,
  ForgotPasswordDto,
  PendingVerificationDto,
  ResetPasswordDto,
  VerifyEmailDto,
} from './dto/email-ownership.dto.js';
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
    private readonly fence: SessionFence,
    private readonly limits: RateLimits,
    private readonly audit: AuditLog,
    @Inject(mailConfig.KEY) private readonly mail: MailConfig,
  ) {}

  @Public()
  @Post('register')
  @RateLimit(['register', 'ip'])
  @ApiOperation({
    operationId: 'register',
    security: [],
    summary: 'Create an account',
    description:
      'The email is trimmed and lower-cased; `Ada@Example.com ` and `ada@example.com` are one account. ' +
      'Unknown fields (such as `role`) are refused with 400. A verification message is sent to the address. ' +
      'With `REGISTRATION_MODE=enumeration-safe` the answer is 202 `pending_verification` for a new and a ' +
      'taken email alike (the owner of a taken one is told by mail), never 201 or 409.',
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
  @ApiAcceptedResponse({
    type: PendingVerificationDto,
    description:
      'Enumeration-safe mode only: the same answer whether or not the email was taken; the message says what next.',
  })
  @ApiProblem(409, 'An account has this email already, in any case (`email_taken`).')
  async register(
    @Body() body: RegisterDto,
    @Res({ passthrough: true }) response: Response,
    @RequestOrigin() origin: Origin,
  ): Promise<UserDto | PendingVerificationDto> {
    if (this.mail.enumerationSafe) {
      await this.accounts.registerQuietly(body, origin);
      response.status(202);
      return { status: 'pending_verification' };
    }
    const user = await this.accounts.register(body, origin);
    response.location(`/users/${user.id}`);
    return UserDto.from(user);
  }

  @Public()
  @Post('verify-email')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'verifyEmail',
    security: [],
    summary: 'Confirm an email address with the token from the verification message',
    description:
      'The token is the `token` query parameter of `${APP_BASE_URL}/verify-email?token=…`. It works once, ' +
      'expires (24 h by default), is voided by a newer one, and proves only the address it was sent to.',
  })
  @ApiNoContentResponse({ description: 'Verified: `emailVerified` is true.' })
  @ApiProblem(
    400,
    'Invalid body (`validation_failed`), or a token that is unknown, used, voided or expired, or sent to an ' +
      'address the account no longer has (`invalid_or_expired_token`).',
  )
  async verifyEmail(@Body() body: VerifyEmailDto, @RequestOrigin() origin: Origin): Promise<void> {
    await this.accounts.verifyEmail(body.token, origin);
  }

  @Post('verify-email/resend')
  @HttpCode(202)
  @RateLimit(['resendPerIp', 'ip'])
  @ApiBearerAuth('bearer')
  @ApiOperation({
    operationId: 'resendVerification',
    summary: 'Send a new verification message to your address',
    description:
      'Voids the links sent before. Nothing is sent when the address is verified already.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'Accepted: the message will be sent.' })
  async resendVerification(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
  ): Promise<AcceptedDto> {
    // Keyed on the address the message goes to, which only the token tells.
    await this.limits.consume('resendPerEmail', digestKey(user.email));
    await this.accounts.resendVerification(session);
    return { status: 'accepted' };
  }

  @Public()
  @Post('forgot-password')
  @HttpCode(202)
  @RateLimit(['forgotPasswordPerIp', 'ip'], ['forgotPasswordPerEmail', 'body.email'])
  @ApiOperation({
    operationId: 'forgotPassword',
    security: [],
    summary: 'Ask for a password reset link by mail',
    description:
      'The same answer, in about the same time, whether or not the email is an account’s; if it is, ' +
      'a message with `${APP_BASE_URL}/reset-password?token=…` is sent (the link works once, for 1 h by default).',
  })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'Accepted, for any email.' })
  async forgotPassword(
    @Body() body: ForgotPasswordDto,
    @RequestOrigin() origin: Origin,
  ): Promise<AcceptedDto> {
    await this.accounts.requestPasswordReset(body.email, origin);
    return { status: 'accepted' };
  }

  @Public()
  @Post('reset-password')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'resetPassword',
    security: [],
    summary: 'Choose a new password with the token from the reset message',
    description:
      'Sets the password, ends every session of the account, voids the other reset links, and sends a ' +
      '"your password was changed" notice.',
  })
  @ApiNoContentResponse({ description: 'Password changed; every session ended.' })
  @ApiProblem(
    400,
    'Invalid body (`validation_failed`, for a password against the rules too), or a token that is unknown, ' +
      'used, voided or expired (`invalid_or_expired_token`).',
  )
  async resetPassword(
    @Body() body: ResetPasswordDto,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.accounts.resetPassword(body.token, body.password, origin);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @RateLimit(['login', 'ip'])
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
  @ApiProblem(
    429,
    'Too many attempts (`rate_limited`), with `Retry-After`: from this client address (default 10 a minute), ' +
      'or on this account from anywhere: after 5 attempts without the right password, each further one waits ' +
      '1 s, doubling up to 15 min (never a lock; the right password resets it). Known and unknown emails alike.',
  )
  @ApiProblem(
    403,
    'The password is right, but the account is disabled (`account_disabled`), or, with ' +
      '`REQUIRE_VERIFIED_EMAIL=true`, its email is not verified yet (`email_not_verified`).',
  )
  login(
    @Body() body: LoginDto,
    @Req() request: Request,
    @RequestOrigin() origin: Origin,
  ): Promise<LoginResponseDto> {
    return this.auth.login(body, { ip: request.ip, userAgent: request.get('user-agent') }, origin);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    operationId: 'logout',
    summary: 'End the session of this token',
    description:
      'The token is refused from now on. A write with this token that is still in flight either ' +
      'commits before the logout answers, or changes nothing and gets 401 `invalid_token`.',
  })
  @ApiNoContentResponse({ description: 'Logged out.' })
  async logout(@CurrentSession() session: Session, @RequestOrigin() origin: Origin): Promise<void> {
    await this.sessions.end(session.userId, session.id);
    // The session store is no transaction of the database's: the row follows the change (and is
    // written even if waiting for the user's writes in flight fails).
    await this.audit.recordAlone(origin, { action: 'logout', targetId: session.userId });
    await this.fence.drain(session.userId);
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
  async logoutAll(
    @CurrentSession() session: Session,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.accounts.endAllSessions(session.userId, origin, { by: session });
  }
}
