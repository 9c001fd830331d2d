import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ManualClock } from '../../../test/support/manual-clock.js';
import type { Session } from '../session.js';
import { MemorySessionStore } from './memory.session-store.js';

// What every store guarantees (create and find, touch, revoke, revokeAllForUser, listing, expiry)
// is tested for all of them in test/session-stores.e2e-spec.ts; this file keeps what is the memory
// store's own: exact expiry boundaries, copies, sweeping, and the per-user cap.

const START = new Date('2030-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ALICE = 'a1a1a1a1-0000-4000-8000-000000000001';
const BOB = 'b2b2b2b2-0000-4000-8000-000000000002';
const MAX_PER_USER = 3;

let sequence = 0;
const at = (ms: number) => new Date(START.getTime() + ms);

/** A session created `createdOffset` ms after START that expires `ttl` ms after it was created. */
function makeSession(
  userId: string,
  createdOffset = 0,
  ttl = HOUR,
  credentialVersion = 0,
): Session {
  sequence += 1;
  const createdAt = at(createdOffset);
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    userId,
    tokenDigest: sequence.toString(16).padStart(64, '0'),
    credentialVersion,
    createdAt,
    lastUsedAt: createdAt,
    expiresAt: new Date(createdAt.getTime() + ttl),
    absoluteExpiresAt: new Date(createdAt.getTime() + 24 * HOUR),
    ip: '203.0.113.7',
    userAgent: 'jest',
  };
}

describe('MemorySessionStore', () => {
  let clock: ManualClock;
  let store: MemorySessionStore;

  const ids = async (userId: string, now: Date) =>
    (await store.listForUser(userId, now)).map((session) => session.id);

  beforeEach(() => {
    clock = new ManualClock(START);
    store = new MemorySessionStore(clock, { maxPerUser: MAX_PER_USER });
  });

  afterEach(() => {
    store.onModuleDestroy();
  });

  describe('expiry', () => {
    it('still finds a session one millisecond before expiresAt', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.findByTokenDigest(session.tokenDigest, at(HOUR - 1))).resolves.toEqual(
        session,
      );
    });

    it('treats expiresAt == now as gone', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.findByTokenDigest(session.tokenDigest, at(HOUR))).resolves.toBeNull();
    });

    it('drops an expired session on sight: it stays gone for an earlier `now`', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.findByTokenDigest(session.tokenDigest, at(HOUR + 1))).resolves.toBeNull();
      await expect(store.findByTokenDigest(session.tokenDigest, at(0))).resolves.toBeNull();
    });

    it('does not let a touch at the deadline bring an expired session back', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.touch(ALICE, session.id, at(HOUR), at(3 * HOUR))).resolves.toBe(false);
      await expect(store.findByTokenDigest(session.tokenDigest, at(0))).resolves.toBeNull();
    });
  });

  describe('touch', () => {
    it('keeps a touched session alive past its original expiry, until the new one', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await store.touch(ALICE, session.id, at(30 * MINUTE), at(90 * MINUTE));
      await expect(
        store.findByTokenDigest(session.tokenDigest, at(HOUR + MINUTE)),
      ).resolves.toMatchObject({ id: session.id, createdAt: at(0) });
      await expect(
        store.findByTokenDigest(session.tokenDigest, at(90 * MINUTE)),
      ).resolves.toBeNull();
    });

    it('returns false for an unknown id', async () => {
      await expect(store.touch(ALICE, 'nope', at(0), at(HOUR))).resolves.toBe(false);
    });

    it("refuses another user's session and leaves it as it was", async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.touch(BOB, session.id, at(MINUTE), at(3 * HOUR))).resolves.toBe(false);
      await expect(store.findByTokenDigest(session.tokenDigest, at(MINUTE))).resolves.toEqual(
        session,
      );
    });
  });

  describe('revoke', () => {
    it('ends only the named session', async () => {
      const first = makeSession(ALICE);
      const second = makeSession(ALICE, MINUTE);
      await store.create(first);
      await store.create(second);
      await store.revoke(ALICE, first.id, at(MINUTE));
      await expect(ids(ALICE, at(MINUTE))).resolves.toEqual([second.id]);
    });

    it.each([5, 50])('keeps every session up to a cap of %i, then exactly the cap', async (cap) => {
      store.onModuleDestroy();
      store = new MemorySessionStore(clock, { maxPerUser: cap });
      for (let created = 1; created <= cap + 3; created++) {
        await store.create(makeSession(ALICE, created * MINUTE, 24 * HOUR));
        const live = await store.listForUser(ALICE, at(created * MINUTE));
        expect(live).toHaveLength(Math.min(created, cap));
      }
    });
  });

  describe('revokeAllForUser', () => {
    it("keeps the kept session, moved to the kept credential version, and ends the user's others", async () => {
      const a1 = makeSession(ALICE);
      const a2 = makeSession(ALICE, MINUTE);
      const a3 = makeSession(ALICE, 2 * MINUTE);
      for (const s of [a1, a2, a3]) await store.create(s);

      await store.revokeAllForUser(ALICE, { id: a2.id, credentialVersion: 1 });

      const moved = { ...a2, credentialVersion: 1 };
      await expect(store.listForUser(ALICE, at(2 * MINUTE))).resolves.toEqual([moved]);
      await expect(store.findByTokenDigest(a2.tokenDigest, at(2 * MINUTE))).resolves.toEqual(moved);
      await expect(store.findByTokenDigest(a1.tokenDigest, at(2 * MINUTE))).resolves.toBeNull();
      await expect(store.findByTokenDigest(a3.tokenDigest, at(2 * MINUTE))).resolves.toBeNull();
    });

    it('keeps the moved session through later logins of the new version', async () => {
      const kept = makeSession(ALICE);
      await store.create(kept);
      await store.revokeAllForUser(ALICE, { id: kept.id, credentialVersion: 1 });

      const login = makeSession(ALICE, MINUTE, HOUR, 1);
      await expect(store.create(login)).resolves.toBe(true);
      await expect(ids(ALICE, at(MINUTE))).resolves.toEqual([login.id, kept.id]);
    });

    it("does not let keep spare or move another user's session", async () => {
      const a1 = makeSession(ALICE);
      const b1 = makeSession(BOB);
      await store.create(a1);
      await store.create(b1);
      await store.revokeAllForUser(ALICE, { id: b1.id, credentialVersion: 5 });
      await expect(store.findByTokenDigest(a1.tokenDigest, at(0))).resolves.toBeNull();
      await expect(store.findByTokenDigest(b1.tokenDigest, at(0))).resolves.toEqual(b1);
    });

    it('is a no-op for a user without sessions', async () => {
      const b1 = makeSession(BOB);
      await store.create(b1);
      await expect(store.revokeAllForUser(ALICE)).resolves.toBeUndefined();
      await expect(store.listForUser(BOB, at(0))).resolves.toEqual([b1]);
    });

    it('lets the user start new sessions afterwards', async () => {
      await store.create(makeSession(ALICE));
      await store.revokeAllForUser(ALICE);
      const fresh = makeSession(ALICE, MINUTE);
      await expect(store.create(fresh)).resolves.toBe(true);
      await expect(ids(ALICE, at(MINUTE))).resolves.toEqual([fresh.id]);
    });
  });

  describe('listForUser', () => {
    it('lists only live sessions of that user, newest first, whatever the order they came in', async () => {
      const oldest = makeSession(ALICE, 0, 10 * HOUR);
      const expired = makeSession(ALICE, MINUTE, 30 * MINUTE);
      const newest = makeSession(ALICE, 2 * HOUR, 10 * HOUR);
      const bobs = makeSession(BOB, 3 * HOUR, 10 * HOUR);
      const middle = makeSession(ALICE, HOUR, 10 * HOUR);
      for (const s of [oldest, expired, newest, bobs, middle]) await store.create(s);

      await expect(store.listForUser(ALICE, at(3 * HOUR))).resolves.toEqual([
        newest,
        middle,
        oldest,
      ]);
    });

    it('is empty for a user without sessions', async () => {
      await store.create(makeSession(BOB));
      await expect(store.listForUser(ALICE, at(0))).resolves.toEqual([]);
    });
  });

  describe('credential versions on create', () => {
    it("drops the user's sessions of a lower credential version, and no one else's", async () => {
      const old1 = makeSession(ALICE, 0, HOUR, 0);
      const old2 = makeSession(ALICE, MINUTE, HOUR, 0);
      const bobs = makeSession(BOB, MINUTE, HOUR, 0);
      for (const s of [old1, old2, bobs]) await store.create(s);

      const fresh = makeSession(ALICE, 2 * MINUTE, HOUR, 1);
      await expect(store.create(fresh)).resolves.toBe(true);

      await expect(store.listForUser(ALICE, at(2 * MINUTE))).resolves.toEqual([fresh]);
      await expect(store.findByTokenDigest(old1.tokenDigest, at(2 * MINUTE))).resolves.toBeNull();
      await expect(store.findByTokenDigest(old2.tokenDigest, at(2 * MINUTE))).resolves.toBeNull();
      await expect(store.findByTokenDigest(bobs.tokenDigest, at(2 * MINUTE))).resolves.toEqual(
        bobs,
      );
    });

    it('keeps sessions of the same credential version', async () => {
      const first = makeSession(ALICE, 0, HOUR, 2);
      const second = makeSession(ALICE, MINUTE, HOUR, 2);
      await store.create(first);
      await store.create(second);
      await expect(ids(ALICE, at(MINUTE))).resolves.toEqual([second.id, first.id]);
    });

    it('refuses, and stores nothing for, a session older than one it holds', async () => {
      const current = makeSession(ALICE, 0, HOUR, 2);
      await store.create(current);

      const stale = makeSession(ALICE, MINUTE, HOUR, 1);
      await expect(store.create(stale)).resolves.toBe(false);

      await expect(store.findByTokenDigest(stale.tokenDigest, at(MINUTE))).resolves.toBeNull();
      await expect(store.listForUser(ALICE, at(MINUTE))).resolves.toEqual([current]);
    });
  });

  describe(`cap (maxPerUser ${MAX_PER_USER})`, () => {
    it('ends the least recently used session, not the oldest, when one more is created', async () => {
      const first = makeSession(ALICE, 0);
      const second = makeSession(ALICE, MINUTE);
      const third = makeSession(ALICE, 2 * MINUTE);
      for (const s of [first, second, third]) await store.create(s);
      // The oldest session is used again, so the second becomes the least recently used.
      await store.touch(ALICE, first.id, at(3 * MINUTE), at(3 * MINUTE + HOUR));

      const fourth = makeSession(ALICE, 4 * MINUTE);
      await expect(store.create(fourth)).resolves.toBe(true);

      await expect(ids(ALICE, at(4 * MINUTE))).resolves.toEqual([fourth.id, third.id, first.id]);
      await expect(store.findByTokenDigest(second.tokenDigest, at(4 * MINUTE))).resolves.toBeNull();
      await expect(store.touch(ALICE, second.id, at(5 * MINUTE), at(HOUR))).resolves.toBe(false);
    });

    it('without touches, ends the oldest', async () => {
      const sessions = [0, 1, 2, 3].map((i) => makeSession(ALICE, i * MINUTE));
      for (const s of sessions) await store.create(s);
      await expect(ids(ALICE, at(3 * MINUTE))).resolves.toEqual(
        sessions
          .slice(1)
          .reverse()
          .map((s) => s.id),
      );
    });

    it('keeps at most the cap however many are created', async () => {
      for (let i = 0; i < 10; i++) await store.create(makeSession(ALICE, i * MINUTE));
      await expect(store.listForUser(ALICE, at(10 * MINUTE))).resolves.toHaveLength(MAX_PER_USER);
    });

    it('does not count expired sessions against the cap', async () => {
      const first = makeSession(ALICE, 0, HOUR);
      const second = makeSession(ALICE, MINUTE, HOUR);
      // The most recently used, so were it counted, the cap would end `first` instead.
      const expiring = makeSession(ALICE, 2 * MINUTE, 30_000);
      for (const s of [first, second, expiring]) await store.create(s);

      const third = makeSession(ALICE, 3 * MINUTE, HOUR);
      await store.create(third);

      await expect(ids(ALICE, at(3 * MINUTE))).resolves.toEqual([third.id, second.id, first.id]);
    });

    it('counts each user separately', async () => {
      const bobs = makeSession(BOB, 0);
      await store.create(bobs);
      for (let i = 1; i <= MAX_PER_USER + 1; i++)
        await store.create(makeSession(ALICE, i * MINUTE));
      await expect(store.listForUser(BOB, at(5 * MINUTE))).resolves.toEqual([bobs]);
      await expect(store.listForUser(ALICE, at(5 * MINUTE))).resolves.toHaveLength(MAX_PER_USER);
    });

    it('honours a cap of 1: each login ends the previous session', async () => {
      store.onModuleDestroy();
      store = new MemorySessionStore(clock, { maxPerUser: 1 });
      const first = makeSession(ALICE, 0);
      const second = makeSession(ALICE, MINUTE);
      await store.create(first);
      await store.create(second);
      await expect(ids(ALICE, at(MINUTE))).resolves.toEqual([second.id]);
    });
  });

  describe('copies', () => {
    it('is not changed by mutating the object passed to create', async () => {
      const session = makeSession(ALICE);
      const original = { ...session };
      await store.create(session);
      session.userId = BOB;
      session.expiresAt = at(-HOUR);
      session.credentialVersion = 9;
      session.ip = '198.51.100.1';

      await expect(store.findByTokenDigest(original.tokenDigest, at(0))).resolves.toEqual(original);
    });

    it('is not changed by mutating a found session', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      const found = await store.findByTokenDigest(session.tokenDigest, at(0));
      expect(found).not.toBeNull();
      found!.expiresAt = at(-HOUR);
      found!.userId = BOB;
      found!.credentialVersion = 9;
      found!.userAgent = 'changed';

      await expect(store.findByTokenDigest(session.tokenDigest, at(0))).resolves.toEqual(session);
      await expect(store.listForUser(BOB, at(0))).resolves.toEqual([]);
    });

    it('is not changed by mutating a listed session', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      const [listed] = await store.listForUser(ALICE, at(0));
      listed.expiresAt = at(-HOUR);
      listed.lastUsedAt.setTime(0);
      listed.ip = null;

      await expect(store.listForUser(ALICE, at(0))).resolves.toEqual([session]);
    });

    it('is not changed by mutating the dates passed to touch', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      const lastUsedAt = at(MINUTE);
      const expiresAt = at(2 * HOUR);
      await store.touch(ALICE, session.id, lastUsedAt, expiresAt);
      expiresAt.setTime(0);

      await expect(store.findByTokenDigest(session.tokenDigest, at(MINUTE))).resolves.toMatchObject(
        { lastUsedAt: at(MINUTE), expiresAt: at(2 * HOUR) },
      );
    });
  });

  describe('sweeping', () => {
    beforeEach(() => {
      // The sweeper is a timer made with the store, so make the store under fake timers.
      store.onModuleDestroy();
      jest.useFakeTimers({ now: START });
      store = new MemorySessionStore(clock, { maxPerUser: MAX_PER_USER });
    });

    afterEach(() => {
      jest.useRealTimers();
    });

    it('drops expired sessions every minute without being asked', async () => {
      const expiring = makeSession(ALICE, 0, 30 * MINUTE);
      const live = makeSession(BOB, 0, 2 * HOUR);
      await store.create(expiring);
      await store.create(live);

      clock.advanceMs(HOUR);
      jest.advanceTimersByTime(MINUTE);

      // A lookup "before" expiry would still find the session had the sweep not dropped it.
      await expect(store.findByTokenDigest(expiring.tokenDigest, at(0))).resolves.toBeNull();
      await expect(store.findByTokenDigest(live.tokenDigest, at(0))).resolves.toEqual(live);
    });

    it('sweeps nothing before the first minute has passed', async () => {
      const expiring = makeSession(ALICE, 0, 30 * MINUTE);
      await store.create(expiring);

      clock.advanceMs(HOUR);
      jest.advanceTimersByTime(MINUTE - 1);

      await expect(store.findByTokenDigest(expiring.tokenDigest, at(0))).resolves.toEqual(expiring);
    });

    it('stops sweeping once the module is destroyed', async () => {
      const expiring = makeSession(ALICE, 0, 30 * MINUTE);
      await store.create(expiring);
      store.onModuleDestroy();

      clock.advanceMs(HOUR);
      jest.advanceTimersByTime(10 * MINUTE);

      expect(jest.getTimerCount()).toBe(0);
      await expect(store.findByTokenDigest(expiring.tokenDigest, at(0))).resolves.toEqual(expiring);
    });
  });
});
