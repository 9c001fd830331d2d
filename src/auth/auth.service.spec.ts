import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { AuditLog } from '../audit/audit-log.service.js';
import { COMMAND_LINE } from '../audit/origin.js';
import type { Checkpoints } from '../common/checkpoints.js';
import { ProblemException } from '../common/problem.exception.js';
import type { Session } from '../sessions/session.js';
import type { LoginThrottle } from '../rate-limit/login-throttle.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { AccountsService } from '../users/accounts.service.js';
import type { PasswordService } from '../users/password.service.js';
import type { User } from '../users/user.entity.js';
import type { UsersService } from '../users/users.service.js';
import { AuthService } from './auth.service.js';
import type { MailConfig } from '../config/mail.config.js';

const user: User = {
  id: '7d3b1f6e-2c1a-4c2e-9a55-0b1f3c9d8e01',
  email: 'ada@example.com',
  name: 'Ada',
  passwordHash: '$argon2id$stored',
  emailVerified: false,
  role: 'user',
  disabled: false,
  credentialVersion: 4,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
};
const session = {
  id: 's1',
  credentialVersion: 4,
  expiresAt: new Date('2026-01-02T00:00:00Z'),
} as Session;

describe('AuthService.login', () => {
  let users: { findByEmail: jest.Mock<UsersService['findByEmail']> };
  let accounts: {
    isCurrent: jest.Mock<AccountsService['isCurrent']>;
    rehashPassword: jest.Mock<AccountsService['rehashPassword']>;
  };
  let passwords: {
    verify: jest.Mock<PasswordService['verify']>;
    verifyDummy: jest.Mock<PasswordService['verifyDummy']>;
    needsRehash: jest.Mock<PasswordService['needsRehash']>;
  };
  let sessions: {
    start: jest.Mock<SessionsService['start']>;
    end: jest.Mock<SessionsService['end']>;
  };
  let checkpoints: { reach: jest.Mock<Checkpoints['reach']> };
  let audit: { recordAlone: jest.Mock<AuditLog['recordAlone']> };
  let auth: AuthService;

  beforeEach(() => {
    users = { findByEmail: jest.fn(async () => user) };
    accounts = {
      isCurrent: jest.fn(async () => true),
      rehashPassword: jest.fn(async () => undefined),
    };
    passwords = {
      verify: jest.fn(async () => true),
      verifyDummy: jest.fn(async () => undefined),
      needsRehash: jest.fn(() => false),
    };
    sessions = {
      start: jest.fn(async () => ({ token: 'lk_token', session })),
      end: jest.fn(async () => true),
    };
    checkpoints = { reach: jest.fn(async () => undefined) };
    audit = { recordAlone: jest.fn(async () => undefined) };
    auth = new AuthService(
      users as unknown as UsersService,
      accounts as unknown as AccountsService,
      passwords as unknown as PasswordService,
      sessions as unknown as SessionsService,
      checkpoints as unknown as Checkpoints,
      {
        attempt: async () => undefined,
        succeeded: async () => undefined,
      } as unknown as LoginThrottle,
      audit as unknown as AuditLog,
      { requireVerifiedEmail: false } as MailConfig,
    );
  });

  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProblemException);
    return {
      status: (error as ProblemException).getStatus(),
      code: (error as ProblemException).code,
    };
  };

  it('returns the token, its expiry and the user on the right password', async () => {
    const result = await auth.login(
      { email: 'ada@example.com', password: 'pw' },
      { ip: '::1' },
      COMMAND_LINE,
    );
    expect(result).toEqual({
      token: 'lk_token',
      tokenType: 'Bearer',
      expiresAt: '2026-01-02T00:00:00.000Z',
      user: expect.objectContaining({ id: user.id, email: user.email }),
    });
    expect(JSON.stringify(result)).not.toContain(user.passwordHash);
    expect(sessions.start).toHaveBeenCalledWith(
      expect.objectContaining({ id: user.id, credentialVersion: 4 }),
      { ip: '::1' },
    );
    expect(accounts.isCurrent).toHaveBeenCalledWith(user.id, 4);
    expect(sessions.end).not.toHaveBeenCalled();
  });

  it('verifies against the dummy hash for an unknown email, and fails like a wrong password', async () => {
    users.findByEmail.mockResolvedValue(null);
    const unknown = await failure(
      auth.login({ email: 'nobody@example.com', password: 'pw' }, {}, COMMAND_LINE),
    );
    expect(passwords.verifyDummy).toHaveBeenCalledWith('pw');

    users.findByEmail.mockResolvedValue(user);
    passwords.verify.mockResolvedValue(false);
    const wrong = await failure(
      auth.login({ email: 'ada@example.com', password: 'nope' }, {}, COMMAND_LINE),
    );

    expect(unknown).toEqual({ status: 401, code: 'invalid_credentials' });
    expect(wrong).toEqual(unknown);
    expect(sessions.start).not.toHaveBeenCalled();
    expect(checkpoints.reach).not.toHaveBeenCalled();
  });

  it('passes the password-checked checkpoint before starting the session', async () => {
    const order: string[] = [];
    checkpoints.reach.mockImplementation(async (checkpoint, subject) => {
      order.push(`${checkpoint} ${subject}`);
    });
    sessions.start.mockImplementation(async () => {
      order.push('start');
      return { token: 'lk_token', session };
    });
    await auth.login({ email: 'ada@example.com', password: 'pw' }, {}, COMMAND_LINE);
    expect(order).toEqual([`login:password-checked ${user.id}`, 'start']);
  });

  it('re-hashes a hash made with other parameters after a successful login only', async () => {
    passwords.needsRehash.mockReturnValue(true);
    await auth.login({ email: 'ada@example.com', password: 'pw' }, {}, COMMAND_LINE);
    expect(accounts.rehashPassword).toHaveBeenCalledWith(user, 'pw');

    accounts.rehashPassword.mockClear();
    passwords.verify.mockResolvedValue(false);
    await failure(auth.login({ email: 'ada@example.com', password: 'nope' }, {}, COMMAND_LINE));
    expect(accounts.rehashPassword).not.toHaveBeenCalled();
  });

  it('fails with invalid_credentials, and ends the session it started, when the credential version moved', async () => {
    accounts.isCurrent.mockResolvedValue(false);
    const result = await failure(
      auth.login({ email: 'ada@example.com', password: 'pw' }, {}, COMMAND_LINE),
    );

    expect(result).toEqual({ status: 401, code: 'invalid_credentials' });
    expect(accounts.isCurrent).toHaveBeenCalledWith(user.id, 4);
    expect(sessions.end).toHaveBeenCalledTimes(1);
    expect(sessions.end).toHaveBeenCalledWith(user.id, session.id);
  });

  it('refuses a disabled account with 403 account_disabled only after the password checked out, and audits the attempt', async () => {
    users.findByEmail.mockResolvedValue({ ...user, disabled: true });
    passwords.verify.mockResolvedValue(false);
    const wrong = await failure(
      auth.login({ email: 'ada@example.com', password: 'nope' }, {}, COMMAND_LINE),
    );
    expect(wrong).toEqual({ status: 401, code: 'invalid_credentials' });

    passwords.verify.mockResolvedValue(true);
    const right = await failure(
      auth.login({ email: 'ada@example.com', password: 'pw' }, {}, COMMAND_LINE),
    );
    expect(right).toEqual({ status: 403, code: 'account_disabled' });
    expect(sessions.start).not.toHaveBeenCalled();
    expect(audit.recordAlone).toHaveBeenLastCalledWith(COMMAND_LINE, {
      action: 'login_failed',
      targetId: user.id,
      details: { email: 'ada@example.com', reason: 'account_disabled' },
    });
  });

  it('fails with invalid_credentials when the store refuses to start the session', async () => {
    sessions.start.mockResolvedValue(null);
    const result = await failure(
      auth.login({ email: 'ada@example.com', password: 'pw' }, {}, COMMAND_LINE),
    );

    expect(result).toEqual({ status: 401, code: 'invalid_credentials' });
    expect(sessions.start).toHaveBeenCalledTimes(1);
    expect(sessions.end).not.toHaveBeenCalled();
  });
});
