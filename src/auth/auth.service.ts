import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service.js';
import type { Origin } from '../audit/origin.js';
import { Checkpoints } from '../common/checkpoints.js';
import { ProblemException } from '../common/problem.exception.js';
import { type MailConfig, mailConfig } from '../config/mail.config.js';
import { LoginThrottle } from '../rate-limit/login-throttle.js';
import { type ClientInfo, SessionsService } from '../sessions/sessions.service.js';
import { AccountsService } from '../users/accounts.service.js';
import { normalizeEmail } from '../users/dto/user-fields.js';
import { UserDto } from '../users/dto/user.dto.js';
import { PasswordService } from '../users/password.service.js';
import { UsersService } from '../users/users.service.js';
import type { LoginDto } from './dto/login.dto.js';
import type { LoginResponseDto } from './dto/login-response.dto.js';

const invalidCredentials = () =>
  new ProblemException(401, 'invalid_credentials', 'The email or password is wrong.');

/**
 * The email a login tried, as the audit log can hold it: login checks only its length, and
 * PostgreSQL refuses a NUL or a lone surrogate in text, so those become U+FFFD.
 */
const printable = (email: string) => email.replace(/[\p{Cc}\p{Cs}]/gu, '\uFFFD');

const accountDisabled = () =>
  new ProblemException(403, 'account_disabled', 'This account is disabled. Ask an administrator.');

const emailNotVerified = () =>
  new ProblemException(
    403,
    'email_not_verified',
    'Confirm your email address first: open the link in the message we sent (or ask for a new one).',
  );

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UsersService,
    private readonly accounts: AccountsService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly checkpoints: Checkpoints,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditLog,
    @Inject(mailConfig.KEY) private readonly mail: MailConfig,
  ) {}

  /**
   * One answer, in about one time, for an unknown email and a wrong password. The session is made
   * under the credential version read with the password hash; if the account changed or went
   * meanwhile, the login fails as if the password were wrong (it was checked against a stale one).
   * Each attempt is audited in an insert of its own (a session is no database transaction when
   * it lives in Redis): the email tried, never the password. Every attempt counts against the
   * account's throttle (known email or not) until the password is right.
   */
  async login(
    { email, password }: LoginDto,
    client: ClientInfo,
    origin: Origin,
  ): Promise<LoginResponseDto> {
    const failed = async (targetId: string | null, reason: string, problem: ProblemException) => {
      await this.audit.recordAlone(origin, {
        action: 'login_failed',
        targetId,
        details: { email: printable(email), reason },
      });
      return problem;
    };
    const account = normalizeEmail(email);
    await this.throttle.attempt(account);
    const user = await this.users.findByEmail(email);
    if (!user) {
      await this.passwords.verifyDummy(password);
      throw await failed(null, 'unknown_email', invalidCredentials());
    }
    if (!(await this.passwords.verify(user.passwordHash, password)))
      throw await failed(user.id, 'wrong_password', invalidCredentials());
    await this.throttle.succeeded(account);
    // Only now: before the password checked out, the answer must not tell these states apart.
    if (user.disabled) throw await failed(user.id, 'account_disabled', accountDisabled());
    if (this.mail.requireVerifiedEmail && !user.emailVerified)
      throw await failed(user.id, 'email_not_verified', emailNotVerified());
    await this.checkpoints.reach('login:password-checked', user.id);
    if (this.passwords.needsRehash(user.passwordHash))
      await this.accounts.rehashPassword(user, password);
    const started = await this.sessions.start(user, client);
    // Stores other than postgres cannot check the version as they insert, so check it after.
    if (!started || !(await this.accounts.isCurrent(user.id, user.credentialVersion))) {
      // Clean-up only: the guard refuses that session anyway, so a store failure here is no 5xx.
      if (started) {
        await this.sessions.end(user.id, started.session.id).catch((error: Error) => {
          this.logger.warn(`Could not end a refused login's session: ${error.message}`);
        });
      }
      throw await failed(user.id, 'changed_meanwhile', invalidCredentials());
    }
    await this.audit.recordAlone(origin, {
      action: 'login_succeeded',
      targetId: user.id,
      actorId: user.id,
    });
    return {
      token: started.token,
      tokenType: 'Bearer',
      expiresAt: started.session.expiresAt.toISOString(),
      user: UserDto.from(user),
    };
  }
}
