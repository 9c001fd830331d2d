import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ProblemException } from '../common/problem.exception.js';
import type { Session } from '../sessions/session.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { PasswordService } from '../users/password.service.js';
import type { User } from '../users/user.entity.js';
import type { UsersService } from '../users/users.service.js';
import { AuthService } from './auth.service.js';

const user: User = {
  id: '7d3b1f6e-2c1a-4c2e-9a55-0b1f3c9d8e01',
  email: 'ada@example.com',
  name: 'Ada',
  passwordHash: '$argon2id$stored',
  emailVerified: false,
  role: 'user',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
};
const session = { id: 's1', expiresAt: new Date('2026-01-02T00:00:00Z') } as Session;

describe('AuthService.login', () => {
  let users: {
    findByEmail: jest.Mock<UsersService['findByEmail']>;
    rehashPassword: jest.Mock<UsersService['rehashPassword']>;
  };
  let passwords: {
    verify: jest.Mock<PasswordService['verify']>;
    verifyDummy: jest.Mock<PasswordService['verifyDummy']>;
    needsRehash: jest.Mock<PasswordService['needsRehash']>;
  };
  let sessions: { start: jest.Mock<SessionsService['start']> };
  let auth: AuthService;

  beforeEach(() => {
    users = {
      findByEmail: jest.fn(async () => user),
      rehashPassword: jest.fn(async () => undefined),
    };
    passwords = {
      verify: jest.fn(async () => true),
      verifyDummy: jest.fn(async () => undefined),
      needsRehash: jest.fn(() => false),
    };
    sessions = { start: jest.fn(async () => ({ token: 'lk_token', session })) };
    auth = new AuthService(
      users as unknown as UsersService,
      passwords as unknown as PasswordService,
      sessions as unknown as SessionsService,
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
    const result = await auth.login({ email: 'ada@example.com', password: 'pw' }, { ip: '::1' });
    expect(result).toEqual({
      token: 'lk_token',
      tokenType: 'Bearer',
      expiresAt: '2026-01-02T00:00:00.000Z',
      user: expect.objectContaining({ id: user.id, email: user.email }),
    });
    expect(JSON.stringify(result)).not.toContain(user.passwordHash);
    expect(sessions.start).toHaveBeenCalledWith(user.id, { ip: '::1' });
  });

  it('verifies against the dummy hash for an unknown email, and fails like a wrong password', async () => {
    users.findByEmail.mockResolvedValue(null);
    const unknown = await failure(auth.login({ email: 'nobody@example.com', password: 'pw' }, {}));
    expect(passwords.verifyDummy).toHaveBeenCalledWith('pw');

    users.findByEmail.mockResolvedValue(user);
    passwords.verify.mockResolvedValue(false);
    const wrong = await failure(auth.login({ email: 'ada@example.com', password: 'nope' }, {}));

    expect(unknown).toEqual({ status: 401, code: 'invalid_credentials' });
    expect(wrong).toEqual(unknown);
    expect(sessions.start).not.toHaveBeenCalled();
  });

  it('re-hashes a hash made with other parameters after a successful login only', async () => {
    passwords.needsRehash.mockReturnValue(true);
    await auth.login({ email: 'ada@example.com', password: 'pw' }, {});
    expect(users.rehashPassword).toHaveBeenCalledWith(user, 'pw');

    users.rehashPassword.mockClear();
    passwords.verify.mockResolvedValue(false);
    await failure(auth.login({ email: 'ada@example.com', password: 'nope' }, {}));
    expect(users.rehashPassword).not.toHaveBeenCalled();
  });
});
