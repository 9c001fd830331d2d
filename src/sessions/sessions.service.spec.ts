import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ManualClock } from '../../test/support/manual-clock.js';
import { validateEnv } from '../config/env.validation.js';
import { sessionConfig } from '../config/session.config.js';
import type { Session } from './session.js';
import { digestToken } from './session-token.js';
import { SessionsService } from './sessions.service.js';
import { MemorySessionStore } from './stores/memory.session-store.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const START = new Date('2030-01-01T00:00:00.000Z');
const ALICE = { id: 'a1a1a1a1-0000-4000-8000-000000000001', credentialVersion: 0 };
const BOB = { id: 'b2b2b2b2-0000-4000-8000-000000000002', credentialVersion: 0 };

/** Idle 30 min, absolute 2 h, touch at most once a minute. */
const SETTINGS: Record<string, string> = {
  SESSION_IDLE_TTL: '30m',
  SESSION_ABSOLUTE_TTL: '2h',
  SESSION_TOUCH_INTERVAL: '60s',
};

/** The session config the environment `values` would give. */
const configFor = (values: Record<string, string>) => sessionConfig.settings(validateEnv(values));

describe('SessionsService', () => {
  let clock: ManualClock;
  let store: MemorySessionStore;
  let service: SessionsService;

  const build = (settings: Record<string, string> = SETTINGS) =>
    new SessionsService(store, clock, configFor(settings));

  /** Starts a session the store accepted; fails the test if start answers null. */
  const start = async (
    owner: { id: string; credentialVersion: number },
    client: { ip?: string | null; userAgent?: string | null } = {},
  ): Promise<{ token: string; session: Session }> => {
    const started = await service.start(owner, client);
    if (!started) throw new Error('expected start to return a session');
    return started;
  };

  beforeEach(() => {
    clock = new ManualClock(START);
    store = new MemorySessionStore(clock, { maxPerUser: 50 });
    service = build();
  });

  afterEach(() => {
    store.onModuleDestroy();
    jest.restoreAllMocks();
  });

  describe('start', () => {
    it('returns a token and a stored session keyed by its digest', async () => {
      const { token, session } = await start(ALICE, {
        ip: '203.0.113.7',
        userAgent: 'curl/8',
      });

      expect(token).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
      expect(session).toMatchObject({
        userId: ALICE.id,
        tokenDigest: digestToken(token),
        credentialVersion: 0,
        ip: '203.0.113.7',
        userAgent: 'curl/8',
      });
      expect(session.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(session.createdAt).toEqual(START);
      expect(session.lastUsedAt).toEqual(START);
      await expect(store.findByTokenDigest(digestToken(token), clock.now())).resolves.toEqual(
        session,
      );
    });

    it('never stores the plaintext token', async () => {
      const { token, session } = await start(ALICE, {});
      expect(JSON.stringify(session)).not.toContain(token);
    });

    it('gives every session its own token and id', async () => {
      const first = await start(ALICE, {});
      const second = await start(ALICE, {});
      expect(first.token).not.toBe(second.token);
      expect(first.session.id).not.toBe(second.session.id);
    });

    it('expires after the idle TTL when that is sooner than the absolute TTL', async () => {
      const { session } = await start(ALICE, {});
      expect(session.expiresAt).toEqual(new Date(START.getTime() + 30 * MINUTE));
      expect(session.absoluteExpiresAt).toEqual(new Date(START.getTime() + 2 * HOUR));
    });

    it('expires at the absolute TTL when that is sooner than the idle TTL', async () => {
      service = build({ ...SETTINGS, SESSION_IDLE_TTL: '3h', SESSION_ABSOLUTE_TTL: '1h' });
      const { session } = await start(ALICE, {});
      expect(session.expiresAt).toEqual(new Date(START.getTime() + HOUR));
      expect(session.absoluteExpiresAt).toEqual(new Date(START.getTime() + HOUR));
    });

    it('stores missing client info as null and truncates long user agents to 256', async () => {
      const bare = await start(ALICE, {});
      expect(bare.session.ip).toBeNull();
      expect(bare.session.userAgent).toBeNull();

      const long = await start(ALICE, { userAgent: 'x'.repeat(1000), ip: null });
      expect(long.session.userAgent).toBe('x'.repeat(256));
      expect(long.session.ip).toBeNull();
    });

    it('truncates a long ip to 64 characters', async () => {
      const { session } = await start(ALICE, { ip: '1'.repeat(100) });
      expect(session.ip).toBe('1'.repeat(64));
    });

    it("records the owner's credential version on the session", async () => {
      const { token, session } = await start({ ...ALICE, credentialVersion: 7 });
      expect(session.credentialVersion).toBe(7);
      await expect(service.authenticate(token)).resolves.toMatchObject({
        session: { credentialVersion: 7 },
      });
    });

    it('answers null, and hands out no token, when the store refuses the session', async () => {
      const create = jest.spyOn(store, 'create').mockResolvedValueOnce(false);
      await expect(service.start(ALICE, {})).resolves.toBeNull();
      expect(create).toHaveBeenCalledTimes(1);
      await expect(store.listForUser(ALICE.id, clock.now())).resolves.toEqual([]);
    });

    it("passes the user's session cap on to the store: the least recently used one ends", async () => {
      store.onModuleDestroy();
      store = new MemorySessionStore(clock, { maxPerUser: 2 });
      service = build();
      const oldest = await start(ALICE);
      clock.advanceMs(MINUTE);
      const middle = await start(ALICE);
      clock.advanceMs(MINUTE);
      await service.authenticate(oldest.token);
      clock.advanceMs(MINUTE);
      const newest = await start(ALICE);

      await expect(service.authenticate(middle.token)).resolves.toBeNull();
      const listed = await service.list(ALICE);
      expect(listed.map((s) => s.id)).toEqual([newest.session.id, oldest.session.id]);
    });
  });

  describe('authenticate', () => {
    it('returns the session for its token', async () => {
      const { token, session } = await start(ALICE, {});
      await expect(service.authenticate(token)).resolves.toEqual({ session });
    });

    it.each([
      [''],
      ['not-a-token'],
      ['lk_short'],
      ['lk_' + 'a'.repeat(44)],
      ['Bearer lk_' + 'a'.repeat(43)],
    ])('rejects the malformed token %p without a lookup', async (token) => {
      const find = jest.spyOn(store, 'findByTokenDigest');
      await expect(service.authenticate(token)).resolves.toBeNull();
      expect(find).not.toHaveBeenCalled();
    });

    it('rejects a well-formed token that was never issued', async () => {
      await start(ALICE, {});
      await expect(service.authenticate('lk_' + 'a'.repeat(43))).resolves.toBeNull();
    });

    it('rejects a token with one character changed', async () => {
      const { token } = await start(ALICE, {});
      const last = token.at(-1) === 'A' ? 'B' : 'A';
      await expect(service.authenticate(token.slice(0, -1) + last)).resolves.toBeNull();
    });

    it('does not write within the touch interval', async () => {
      const { token, session } = await start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');

      clock.advanceMs(59 * SECOND);
      const seen = await service.authenticate(token);

      expect(touch).not.toHaveBeenCalled();
      expect(seen?.session.lastUsedAt).toEqual(session.lastUsedAt);
      expect(seen?.session.expiresAt).toEqual(session.expiresAt);
    });

    it('slides the idle window once the touch interval has passed', async () => {
      const { token, session } = await start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');

      clock.advanceMs(MINUTE);
      const now = clock.now();
      const seen = await service.authenticate(token);

      const slid = new Date(now.getTime() + 30 * MINUTE);
      expect(touch).toHaveBeenCalledTimes(1);
      expect(touch).toHaveBeenCalledWith(ALICE.id, session.id, now, slid);
      expect(seen?.session).toMatchObject({ id: session.id, lastUsedAt: now, expiresAt: slid });
      await expect(store.findByTokenDigest(session.tokenDigest, now)).resolves.toMatchObject({
        lastUsedAt: now,
        expiresAt: slid,
      });
    });

    it('writes at most once per touch interval under constant use', async () => {
      const { token } = await start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');

      // A request every 10 s for 5 minutes: 30 reads.
      for (let i = 0; i < 30; i++) {
        clock.advanceMs(10 * SECOND);
        await expect(service.authenticate(token)).resolves.not.toBeNull();
      }
      expect(touch).toHaveBeenCalledTimes(5);
    });

    it('touches on every use when the touch interval is 0', async () => {
      service = build({ ...SETTINGS, SESSION_TOUCH_INTERVAL: '0' });
      const { token } = await start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');
      await service.authenticate(token);
      clock.advanceMs(1);
      await service.authenticate(token);
      expect(touch).toHaveBeenCalledTimes(2);
    });

    it('stays alive while used within the idle TTL', async () => {
      const { token } = await start(ALICE, {});
      for (let i = 0; i < 3; i++) {
        clock.advanceMs(29 * MINUTE);
        await expect(service.authenticate(token)).resolves.not.toBeNull();
      }
      // 87 minutes in: well past the first idle deadline of 30 minutes.
      expect(clock.now().getTime() - START.getTime()).toBe(87 * MINUTE);
    });

    it('expires after the idle TTL without use', async () => {
      const { token } = await start(ALICE, {});
      clock.advanceMs(30 * MINUTE - 1);
      // Still inside the window; this use slides it.
      await expect(service.authenticate(token)).resolves.not.toBeNull();
      clock.advanceMs(30 * MINUTE);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it('expires exactly at the idle deadline', async () => {
      const { token } = await start(ALICE, {});
      clock.advanceMs(30 * MINUTE);
      await expect(service.authenticate(token)).resolves.toBeNull();
      // And stays expired.
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it('expires at the absolute TTL even with constant use', async () => {
      const { token, session } = await start(ALICE, {});
      // A request every 5 minutes until just before the absolute deadline.
      while (clock.now().getTime() + 5 * MINUTE < session.absoluteExpiresAt.getTime()) {
        clock.advanceMs(5 * MINUTE);
        await expect(service.authenticate(token)).resolves.not.toBeNull();
      }
      clock.advanceMs(5 * MINUTE);
      expect(clock.now()).toEqual(session.absoluteExpiresAt);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it('never slides expiresAt past the absolute deadline', async () => {
      const { token, session } = await start(ALICE, {});
      for (let i = 0; i < 11; i++) {
        clock.advanceMs(10 * MINUTE);
        await service.authenticate(token);
      }
      // 110 minutes in: now + idle TTL would be 140 minutes, past the 120-minute cap.
      const seen = await service.authenticate(token);
      expect(seen).not.toBeNull();
      expect(seen?.session.expiresAt).toEqual(session.absoluteExpiresAt);
    });

    it('returns null when the session is revoked between lookup and touch', async () => {
      const { token } = await start(ALICE, {});
      clock.advanceMs(MINUTE);
      jest.spyOn(store, 'touch').mockResolvedValueOnce(false);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });
  });

  describe('list', () => {
    it("lists the user's live sessions, newest first", async () => {
      const first = await start(ALICE, {});
      clock.advanceMs(MINUTE);
      const second = await start(ALICE, {});
      await start(BOB, {});

      const listed = await service.list(ALICE);
      expect(listed.map((s) => s.id)).toEqual([second.session.id, first.session.id]);

      clock.advanceMs(30 * MINUTE);
      await expect(service.list(ALICE)).resolves.toEqual([]);
    });

    it('lists only the sessions of the given credential version', async () => {
      const first = await start(ALICE, {});
      const second = await start(ALICE, {});
      const third = await start(ALICE, {});
      // The store lists every version; which ones a store can hold at once is its own business.
      const listForUser = jest
        .spyOn(store, 'listForUser')
        .mockResolvedValue([
          { ...third.session, credentialVersion: 2 },
          second.session,
          { ...first.session, credentialVersion: 2 },
        ]);

      const current = await service.list({ ...ALICE, credentialVersion: 2 });
      expect(current.map((s) => s.id)).toEqual([third.session.id, first.session.id]);
      expect(listForUser).toHaveBeenCalledWith(ALICE.id, clock.now());
      await expect(service.list(ALICE)).resolves.toEqual([second.session]);
      await expect(service.list({ ...ALICE, credentialVersion: 3 })).resolves.toEqual([]);
    });
  });

  describe('end and endAll', () => {
    it('end stops the token from working', async () => {
      const { token, session } = await start(ALICE, {});
      await expect(service.end(ALICE.id, session.id)).resolves.toBe(true);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it("end refuses another user's session", async () => {
      const { token, session } = await start(ALICE, {});
      await expect(service.end(BOB.id, session.id)).resolves.toBe(false);
      await expect(service.authenticate(token)).resolves.not.toBeNull();
    });

    it('endAll stops every token of the user', async () => {
      const first = await start(ALICE, {});
      const second = await start(ALICE, {});
      const bobs = await start(BOB, {});

      await service.endAll(ALICE.id);

      await expect(service.authenticate(first.token)).resolves.toBeNull();
      await expect(service.authenticate(second.token)).resolves.toBeNull();
      await expect(service.authenticate(bobs.token)).resolves.not.toBeNull();
    });

    it('endAll keeps the excepted session', async () => {
      const kept = await start(ALICE, {});
      const ended = await start(ALICE, {});

      await service.endAll(ALICE.id, { id: kept.session.id, credentialVersion: 1 });

      await expect(service.authenticate(kept.token)).resolves.toMatchObject({
        session: { id: kept.session.id, credentialVersion: 1 },
      });
      await expect(service.authenticate(ended.token)).resolves.toBeNull();
      const moved = { ...ALICE, credentialVersion: 1 };
      await expect(service.list(moved)).resolves.toEqual([
        expect.objectContaining({ id: kept.session.id }),
      ]);
    });
  });
});
