import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { OWNER_PARAM_KEY } from '../common/decorators/owner-or-admin.decorator.js';
import { PATH_IDS_KEY, ROLES_KEY } from '../common/decorators/roles.decorator.js';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator.js';
import { ProblemException } from '../common/problem.exception.js';
import type { Session } from '../sessions/session.js';
import type { Authenticated, SessionsService } from '../sessions/sessions.service.js';
import { User } from '../users/user.entity.js';
import type { UsersService } from '../users/users.service.js';
import { type AuthenticatedRequest, AuthGuard } from './auth.guard.js';

const ALICE_ID = 'a1a1a1a1-0000-4000-8000-000000000001';
const BOB_ID = 'b2b2b2b2-0000-4000-8000-000000000002';
const ADMIN_ID = 'c3c3c3c3-0000-4000-8000-000000000003';
const GONE_ID = 'd4d4d4d4-0000-4000-8000-000000000004';

const ALICE_TOKEN = 'lk_' + 'a'.repeat(43);
const ADMIN_TOKEN = 'lk_' + 'b'.repeat(43);
const ORPHAN_TOKEN = 'lk_' + 'c'.repeat(43);
/** Carol changed her password (credential version 3) after these sessions were made. */
const CAROL_ID = 'e5e5e5e5-0000-4000-8000-000000000005';
const CAROL_STALE_TOKEN = 'lk_' + 'd'.repeat(43);
const CAROL_CURRENT_TOKEN = 'lk_' + 'e'.repeat(43);
const CAROL_NEWER_TOKEN = 'lk_' + 'f'.repeat(43);

/** Dave's account is disabled (his session predates it in this fake, which the version would not allow). */
const DAVE_ID = 'f6f6f6f6-0000-4000-8000-000000000006';
const DAVE_TOKEN = 'lk_' + 'g'.repeat(43);

const makeUser = (id: string, role: User['role'] = 'user', credentialVersion = 0): User =>
  Object.assign(new User(), {
    id,
    email: `${id}@example.com`,
    name: null,
    passwordHash: '$argon2id$...',
    emailVerified: true,
    role,
    disabled: false,
    credentialVersion,
    createdAt: new Date('2030-01-01T00:00:00Z'),
    updatedAt: new Date('2030-01-01T00:00:00Z'),
  });

const makeSession = (userId: string, credentialVersion = 0): Session => ({
  id: `session-of-${userId}-v${credentialVersion}`,
  userId,
  tokenDigest: '0'.repeat(64),
  credentialVersion,
  createdAt: new Date('2030-01-01T00:00:00Z'),
  lastUsedAt: new Date('2030-01-01T00:00:00Z'),
  expiresAt: new Date('2030-01-02T00:00:00Z'),
  absoluteExpiresAt: new Date('2030-01-15T00:00:00Z'),
  ip: null,
  userAgent: null,
});

const USERS = new Map([
  [ALICE_ID, makeUser(ALICE_ID)],
  [BOB_ID, makeUser(BOB_ID)],
  [ADMIN_ID, makeUser(ADMIN_ID, 'admin')],
  [CAROL_ID, makeUser(CAROL_ID, 'user', 3)],
  [DAVE_ID, Object.assign(makeUser(DAVE_ID), { disabled: true })],
]);
const SESSIONS = new Map([
  [ALICE_TOKEN, makeSession(ALICE_ID)],
  [ADMIN_TOKEN, makeSession(ADMIN_ID)],
  [ORPHAN_TOKEN, makeSession(GONE_ID)],
  [CAROL_STALE_TOKEN, makeSession(CAROL_ID, 2)],
  [CAROL_CURRENT_TOKEN, makeSession(CAROL_ID, 3)],
  [CAROL_NEWER_TOKEN, makeSession(CAROL_ID, 4)],
  [DAVE_TOKEN, makeSession(DAVE_ID)],
]);

interface FakeRequest {
  headers: { authorization?: string };
  params: Record<string, string>;
  /** Set by the guard when it accepts the token. */
  auth?: AuthenticatedRequest['auth'];
}

interface Route {
  authorization?: string;
  params?: Record<string, string>;
  /** Metadata on the handler. */
  handlerMeta?: Record<string, unknown>;
  /** Metadata on the controller class. */
  classMeta?: Record<string, unknown>;
}

function fakeContext(route: Route = {}) {
  const handler = function handler() {};
  class FakeController {}
  for (const [key, value] of Object.entries(route.handlerMeta ?? {})) {
    Reflect.defineMetadata(key, value, handler);
  }
  for (const [key, value] of Object.entries(route.classMeta ?? {})) {
    Reflect.defineMetadata(key, value, FakeController);
  }
  const request: FakeRequest = {
    headers: route.authorization === undefined ? {} : { authorization: route.authorization },
    params: route.params ?? {},
  };
  const context = {
    getHandler: () => handler,
    getClass: () => FakeController,
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
  return { context, request };
}

/** The ProblemException `promise` rejects with; fails the test when it resolves or rejects otherwise. */
async function problemFrom(promise: Promise<unknown>): Promise<ProblemException> {
  const error = await promise.then(
    () => {
      throw new Error('expected the guard to refuse');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ProblemException);
  return error as ProblemException;
}

describe('AuthGuard', () => {
  let authenticate: jest.Mock<(token: string) => Promise<Authenticated | null>>;
  let findById: jest.Mock<(id: string) => Promise<User | null>>;
  let guard: AuthGuard;

  beforeEach(() => {
    authenticate = jest.fn(async (token: string) => {
      const session = SESSIONS.get(token);
      return session ? { session } : null;
    });
    findById = jest.fn(async (id: string) => USERS.get(id) ?? null);
    guard = new AuthGuard(
      new Reflector(),
      { authenticate } as unknown as SessionsService,
      { findById } as unknown as UsersService,
    );
  });

  describe('public routes', () => {
    it('lets a @Public() handler through without a header or lookup', async () => {
      const { context, request } = fakeContext({ handlerMeta: { [IS_PUBLIC_KEY]: true } });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(authenticate).not.toHaveBeenCalled();
      expect(request.auth).toBeUndefined();
    });

    it('lets a handler of a @Public() controller through', async () => {
      const { context } = fakeContext({ classMeta: { [IS_PUBLIC_KEY]: true } });
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });

    it('lets a public route through even with a bad token', async () => {
      const { context } = fakeContext({
        authorization: 'Bearer nonsense',
        handlerMeta: { [IS_PUBLIC_KEY]: true },
      });
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });
  });

  describe('missing or unusable Authorization header', () => {
    it.each([
      ['no header', undefined],
      ['an empty header', ''],
      ['Basic credentials', 'Basic xyz'],
      ['a bare token', ALICE_TOKEN],
      ['Bearer without a token', 'Bearer '],
      ['Bearer with two tokens', `Bearer ${ALICE_TOKEN} ${ADMIN_TOKEN}`],
    ])('answers %s with 401 unauthenticated', async (_, authorization) => {
      const { context, request } = fakeContext({ authorization });
      const problem = await problemFrom(guard.canActivate(context));

      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('unauthenticated');
      expect(problem.extras.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="latchkey"' });
      expect(authenticate).not.toHaveBeenCalled();
      expect(request.auth).toBeUndefined();
    });
  });

  describe('bearer tokens', () => {
    it.each([
      ['Bearer', `Bearer ${ALICE_TOKEN}`],
      ['bearer', `bearer ${ALICE_TOKEN}`],
      ['BEARER', `BEARER ${ALICE_TOKEN}`],
      ['extra spaces', `Bearer   ${ALICE_TOKEN}  `],
    ])('accepts the scheme written as %s', async (_, authorization) => {
      const { context } = fakeContext({ authorization });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(authenticate).toHaveBeenCalledWith(ALICE_TOKEN);
    });

    it('sets request.auth to the user and session', async () => {
      const { context, request } = fakeContext({ authorization: `Bearer ${ALICE_TOKEN}` });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(findById).toHaveBeenCalledWith(ALICE_ID);
      expect(request.auth).toEqual({
        user: USERS.get(ALICE_ID),
        session: SESSIONS.get(ALICE_TOKEN),
      });
    });

    it('answers an unknown token with 401 invalid_token', async () => {
      const { context, request } = fakeContext({ authorization: `Bearer lk_${'z'.repeat(43)}` });
      const problem = await problemFrom(guard.canActivate(context));

      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('invalid_token');
      expect(problem.extras.headers?.['WWW-Authenticate']).toBe(
        'Bearer realm="latchkey", error="invalid_token"',
      );
      expect(findById).not.toHaveBeenCalled();
      expect(request.auth).toBeUndefined();
    });

    it('answers a session whose user no longer exists with invalid_token', async () => {
      const { context, request } = fakeContext({ authorization: `Bearer ${ORPHAN_TOKEN}` });
      const problem = await problemFrom(guard.canActivate(context));

      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('invalid_token');
      expect(problem.extras.headers?.['WWW-Authenticate']).toContain('error="invalid_token"');
      expect(findById).toHaveBeenCalledWith(GONE_ID);
      expect(request.auth).toBeUndefined();
    });
  });

  describe('credential version', () => {
    it("refuses a session made before the user's last credential change with invalid_token", async () => {
      const { context, request } = fakeContext({ authorization: `Bearer ${CAROL_STALE_TOKEN}` });
      const problem = await problemFrom(guard.canActivate(context));

      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('invalid_token');
      expect(problem.extras.headers?.['WWW-Authenticate']).toBe(
        'Bearer realm="latchkey", error="invalid_token"',
      );
      expect(findById).toHaveBeenCalledWith(CAROL_ID);
      expect(request.auth).toBeUndefined();
    });

    it("accepts a session of the user's current credential version", async () => {
      const { context, request } = fakeContext({ authorization: `Bearer ${CAROL_CURRENT_TOKEN}` });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(request.auth).toEqual({
        user: USERS.get(CAROL_ID),
        session: SESSIONS.get(CAROL_CURRENT_TOKEN),
      });
    });

    it('refuses a session whose version is not the current one, even a higher one', async () => {
      const { context, request } = fakeContext({ authorization: `Bearer ${CAROL_NEWER_TOKEN}` });
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.code).toBe('invalid_token');
      expect(request.auth).toBeUndefined();
    });

    it('checks the version before ownership: a stale session is 401, not 403', async () => {
      const { context } = fakeContext({
        authorization: `Bearer ${CAROL_STALE_TOKEN}`,
        params: { id: BOB_ID },
        handlerMeta: { [OWNER_PARAM_KEY]: 'id' },
      });
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('invalid_token');
    });
  });

  describe('@OwnerOrAdmin() routes', () => {
    const owner = (params: Record<string, string>, authorization?: string) =>
      fakeContext({ authorization, params, handlerMeta: { [OWNER_PARAM_KEY]: 'id' } });

    it('lets a user act on their own id', async () => {
      const { context, request } = owner({ id: ALICE_ID }, `Bearer ${ALICE_TOKEN}`);
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(request.auth?.user.id).toBe(ALICE_ID);
    });

    it('takes their own id in upper case as theirs, and hands it on in lower case', async () => {
      const { context, request } = owner({ id: ALICE_ID.toUpperCase() }, `Bearer ${ALICE_TOKEN}`);
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(request.params.id).toBe(ALICE_ID);
    });

    it("forbids a user acting on another user's id", async () => {
      const { context } = owner({ id: BOB_ID }, `Bearer ${ALICE_TOKEN}`);
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.getStatus()).toBe(403);
      expect(problem.code).toBe('forbidden');
    });

    it('lets an admin act on any id', async () => {
      for (const id of [ALICE_ID, BOB_ID, ADMIN_ID, GONE_ID]) {
        const { context } = owner({ id }, `Bearer ${ADMIN_TOKEN}`);
        await expect(guard.canActivate(context)).resolves.toBe(true);
      }
    });

    it.each([['not-a-uuid'], [''], [`${ALICE_ID}x`]])(
      'answers the malformed id %p with 400 validation_failed',
      async (id) => {
        const { context } = owner({ id }, `Bearer ${ALICE_TOKEN}`);
        const problem = await problemFrom(guard.canActivate(context));
        expect(problem.getStatus()).toBe(400);
        expect(problem.code).toBe('validation_failed');
        expect(problem.extras.errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
      },
    );

    it('answers a missing path parameter with 400 validation_failed', async () => {
      const { context } = owner({}, `Bearer ${ALICE_TOKEN}`);
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.code).toBe('validation_failed');
    });

    it('rejects a malformed id for admins too', async () => {
      const { context } = owner({ id: 'me' }, `Bearer ${ADMIN_TOKEN}`);
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.getStatus()).toBe(400);
    });

    it('checks authentication before the id: no token is 401, not 400', async () => {
      const { context } = owner({ id: 'not-a-uuid' });
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('unauthenticated');
    });

    it('checks authentication before ownership: an unknown token is 401, not 403', async () => {
      const { context } = owner({ id: BOB_ID }, `Bearer lk_${'z'.repeat(43)}`);
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.getStatus()).toBe(401);
      expect(problem.code).toBe('invalid_token');
    });

    it('reads the parameter named in the metadata', async () => {
      const named = (params: Record<string, string>) =>
        fakeContext({
          authorization: `Bearer ${ALICE_TOKEN}`,
          params,
          classMeta: { [OWNER_PARAM_KEY]: 'userId' },
        });
      await expect(guard.canActivate(named({ userId: ALICE_ID }).context)).resolves.toBe(true);
      const problem = await problemFrom(
        guard.canActivate(named({ id: ALICE_ID, userId: BOB_ID }).context),
      );
      expect(problem.getStatus()).toBe(403);
    });

    it('does not check ownership on routes without the metadata', async () => {
      const { context } = fakeContext({
        authorization: `Bearer ${ALICE_TOKEN}`,
        params: { id: BOB_ID },
      });
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });
  });
  describe('disabled accounts', () => {
    it('refuses a session of a disabled account with 401 invalid_token', async () => {
      const { context } = fakeContext({ authorization: `Bearer ${DAVE_TOKEN}` });
      const problem = await problemFrom(guard.canActivate(context));
      expect([problem.getStatus(), problem.code]).toEqual([401, 'invalid_token']);
    });
  });

  describe('@Roles() routes', () => {
    const restricted = (
      authorization: string,
      meta: Record<string, unknown>,
      params: Record<string, string> = {},
      on: 'handlerMeta' | 'classMeta' = 'classMeta',
    ) => fakeContext({ authorization, params, [on]: meta });

    it('lets a user with the role through, from class or handler metadata', async () => {
      for (const on of ['classMeta', 'handlerMeta'] as const) {
        const { context } = restricted(`Bearer ${ADMIN_TOKEN}`, { [ROLES_KEY]: ['admin'] }, {}, on);
        await expect(guard.canActivate(context)).resolves.toBe(true);
      }
    });

    it('forbids a user without the role (403 forbidden), whatever the id', async () => {
      for (const id of [ALICE_ID, BOB_ID, GONE_ID]) {
        const { context } = restricted(
          `Bearer ${ALICE_TOKEN}`,
          { [ROLES_KEY]: ['admin'], [PATH_IDS_KEY]: ['id'] },
          { id },
        );
        const problem = await problemFrom(guard.canActivate(context));
        expect([problem.getStatus(), problem.code]).toEqual([403, 'forbidden']);
      }
    });

    it('lets nobody in when no role is named', async () => {
      const { context } = restricted(`Bearer ${ADMIN_TOKEN}`, { [ROLES_KEY]: [] });
      expect((await problemFrom(guard.canActivate(context))).getStatus()).toBe(403);
    });

    it('checks the path ids before the role: a malformed id is 400 even for a non-admin', async () => {
      const { context } = restricted(
        `Bearer ${ALICE_TOKEN}`,
        { [ROLES_KEY]: ['admin'], [PATH_IDS_KEY]: ['id'] },
        { id: 'not-a-uuid' },
      );
      expect((await problemFrom(guard.canActivate(context))).getStatus()).toBe(400);
    });

    it('hands the handler each path id in lower case', async () => {
      const { context, request } = restricted(
        `Bearer ${ADMIN_TOKEN}`,
        { [ROLES_KEY]: ['admin'], [PATH_IDS_KEY]: ['id'] },
        { id: BOB_ID.toUpperCase() },
      );
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(request.params.id).toBe(BOB_ID);
    });

    it('checks authentication first: no token is 401, not 403', async () => {
      const { context } = fakeContext({ classMeta: { [ROLES_KEY]: ['admin'] } });
      expect((await problemFrom(guard.canActivate(context))).getStatus()).toBe(401);
    });
  });
  describe('a session store that reads the owner with the session', () => {
    beforeEach(() => {
      authenticate.mockImplementation(async (token: string) => {
        const session = SESSIONS.get(token);
        const owner = session && USERS.get(session.userId);
        return session && owner ? { session, owner } : null;
      });
    });

    it('uses that owner and reads no user itself', async () => {
      const { context, request } = fakeContext({ authorization: `Bearer ${ALICE_TOKEN}` });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(findById).not.toHaveBeenCalled();
      expect(request.auth).toEqual({
        user: USERS.get(ALICE_ID),
        session: SESSIONS.get(ALICE_TOKEN),
      });
    });

    it.each([
      ['of an older credential version', CAROL_STALE_TOKEN],
      ['of a newer credential version', CAROL_NEWER_TOKEN],
      ['of a disabled account', DAVE_TOKEN],
    ])('refuses a session %s with invalid_token', async (_, token) => {
      const { context, request } = fakeContext({ authorization: `Bearer ${token}` });
      const problem = await problemFrom(guard.canActivate(context));
      expect(problem.code).toBe('invalid_token');
      expect(findById).not.toHaveBeenCalled();
      expect(request.auth).toBeUndefined();
    });

    it("applies @Roles() to that owner's role", async () => {
      const route = (authorization: string) =>
        fakeContext({ authorization, handlerMeta: { [ROLES_KEY]: ['admin'] } }).context;
      await expect(guard.canActivate(route(`Bearer ${ADMIN_TOKEN}`))).resolves.toBe(true);
      const problem = await problemFrom(guard.canActivate(route(`Bearer ${ALICE_TOKEN}`)));
      expect(problem.getStatus()).toBe(403);
    });
  });
});
