import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../test/support/manual-clock.js';
import type { Session } from '../session.js';
import { MemorySessionStore } from './memory.session-store.js';

const START = new Date('2030-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ALICE = 'a1a1a1a1-0000-4000-8000-000000000001';
const BOB = 'b2b2b2b2-0000-4000-8000-000000000002';

let sequence = 0;
const at = (ms: number) => new Date(START.getTime() + ms);

/** A session created `createdOffset` ms after START that expires `ttl` ms after it was created. */
function makeSession(userId: string, createdOffset = 0, ttl = HOUR): Session {
  sequence += 1;
  const createdAt = at(createdOffset);
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    userId,
    tokenDigest: sequence.toString(16).padStart(64, '0'),
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

  beforeEach(() => {
    clock = new ManualClock(START);
    store = new MemorySessionStore(clock);
  });

  afterEach(() => {
    store.onModuleDestroy();
  });

  describe('create and findByTokenDigest', () => {
    it('finds a created session by its token digest', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      await expect(store.findByTokenDigest(session.tokenDigest, clock.now())).resolves.toEqual(
        session,
      );
    });

    it('returns null for an unknown digest', async () => {
      await store.create(makeSession(ALICE));
      await expect(store.findByTokenDigest('f'.repeat(64), clock.now())).resolves.toBeNull();
    });

    it('keeps sessions apart', async () => {
      const first = makeSession(ALICE);
      const second = makeSession(BOB);
      await store.create(first);
      await store.create(second);
      await expect(store.findByTokenDigest(first.tokenDigest, clock.now())).resolves.toMatchObject({
        id: first.id,
        userId: ALICE,
      });
      await expect(store.findByTokenDigest(second.tokenDigest, clock.now())).resolves.toMatchObject(
        { id: second.id, userId: BOB },
      );
    });
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

    it('treats expiresAt < now as gone, and stays gone for an earlier `now`', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.findByTokenDigest(session.tokenDigest, at(HOUR + 1))).resolves.toBeNull();
      await expect(store.findByTokenDigest(session.tokenDigest, at(0))).resolves.toBeNull();
    });
  });

  describe('touch', () => {
    it('moves lastUsedAt and expiresAt', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await expect(store.touch(session.id, at(30 * MINUTE), at(90 * MINUTE))).resolves.toBe(true);

      const found = await store.findByTokenDigest(session.tokenDigest, at(30 * MINUTE));
      expect(found?.lastUsedAt).toEqual(at(30 * MINUTE));
      expect(found?.expiresAt).toEqual(at(90 * MINUTE));
      expect(found?.createdAt).toEqual(at(0));
    });

    it('keeps a touched session alive past its original expiry', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);
      await store.touch(session.id, at(30 * MINUTE), at(90 * MINUTE));
      await expect(
        store.findByTokenDigest(session.tokenDigest, at(HOUR + MINUTE)),
      ).resolves.toMatchObject({ id: session.id });
      await expect(
        store.findByTokenDigest(session.tokenDigest, at(90 * MINUTE)),
      ).resolves.toBeNull();
    });

    it('returns false for an unknown id', async () => {
      await expect(store.touch('nope', at(0), at(HOUR))).resolves.toBe(false);
    });

    it('returns false for a revoked session and does not bring it back', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      await store.revoke(ALICE, session.id, at(0));

      await expect(store.touch(session.id, at(MINUTE), at(2 * HOUR))).resolves.toBe(false);
      await expect(store.findByTokenDigest(session.tokenDigest, at(MINUTE))).resolves.toBeNull();
      await expect(store.listForUser(ALICE, at(MINUTE))).resolves.toEqual([]);
    });

    it('returns false for an expired session and does not bring it back', async () => {
      const session = makeSession(ALICE, 0, HOUR);
      await store.create(session);

      await expect(store.touch(session.id, at(HOUR), at(3 * HOUR))).resolves.toBe(false);
      await expect(store.findByTokenDigest(session.tokenDigest, at(HOUR))).resolves.toBeNull();
      await expect(store.findByTokenDigest(session.tokenDigest, at(0))).resolves.toBeNull();
    });
  });

  describe('revoke', () => {
    it('ends the session for its owner', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      await expect(store.revoke(ALICE, session.id, at(0))).resolves.toBe(true);
      await expect(store.findByTokenDigest(session.tokenDigest, clock.now())).resolves.toBeNull();
    });

    it('refuses another user and leaves the session alone', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      await expect(store.revoke(BOB, session.id, at(0))).resolves.toBe(false);
      await expect(store.findByTokenDigest(session.tokenDigest, clock.now())).resolves.toEqual(
        session,
      );
    });

    it('returns false for an unknown id and for a second revoke', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      await expect(store.revoke(ALICE, 'unknown', at(0))).resolves.toBe(false);
      await expect(store.revoke(ALICE, session.id, at(0))).resolves.toBe(true);
      await expect(store.revoke(ALICE, session.id, at(0))).resolves.toBe(false);
    });

    it('ends only the named session', async () => {
      const first = makeSession(ALICE);
      const second = makeSession(ALICE, MINUTE);
      await store.create(first);
      await store.create(second);
      await store.revoke(ALICE, first.id, at(0));
      const remaining = await store.listForUser(ALICE, clock.now());
      expect(remaining.map((s) => s.id)).toEqual([second.id]);
    });
  });

  describe('revokeAllForUser', () => {
    it('ends every session of the user and none of anyone else', async () => {
      const a1 = makeSession(ALICE);
      const a2 = makeSession(ALICE, MINUTE);
      const b1 = makeSession(BOB);
      for (const s of [a1, a2, b1]) await store.create(s);

      await store.revokeAllForUser(ALICE);

      await expect(store.listForUser(ALICE, clock.now())).resolves.toEqual([]);
      await expect(store.findByTokenDigest(a1.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.findByTokenDigest(a2.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.findByTokenDigest(b1.tokenDigest, clock.now())).resolves.toEqual(b1);
    });

    it('keeps the excepted session', async () => {
      const a1 = makeSession(ALICE);
      const a2 = makeSession(ALICE, MINUTE);
      const a3 = makeSession(ALICE, 2 * MINUTE);
      for (const s of [a1, a2, a3]) await store.create(s);

      await store.revokeAllForUser(ALICE, a2.id);

      const remaining = await store.listForUser(ALICE, clock.now());
      expect(remaining.map((s) => s.id)).toEqual([a2.id]);
      await expect(store.findByTokenDigest(a2.tokenDigest, clock.now())).resolves.toEqual(a2);
      await expect(store.findByTokenDigest(a1.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.findByTokenDigest(a3.tokenDigest, clock.now())).resolves.toBeNull();
    });

    it('does not let exceptId spare another user', async () => {
      const a1 = makeSession(ALICE);
      const b1 = makeSession(BOB);
      await store.create(a1);
      await store.create(b1);
      await store.revokeAllForUser(ALICE, b1.id);
      await expect(store.findByTokenDigest(a1.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.findByTokenDigest(b1.tokenDigest, clock.now())).resolves.toEqual(b1);
    });

    it('is a no-op for a user without sessions', async () => {
      const b1 = makeSession(BOB);
      await store.create(b1);
      await expect(store.revokeAllForUser(ALICE)).resolves.toBeUndefined();
      await expect(store.listForUser(BOB, clock.now())).resolves.toHaveLength(1);
    });

    it('lets the user start new sessions afterwards', async () => {
      await store.create(makeSession(ALICE));
      await store.revokeAllForUser(ALICE);
      const fresh = makeSession(ALICE, MINUTE);
      await store.create(fresh);
      const listed = await store.listForUser(ALICE, clock.now());
      expect(listed.map((s) => s.id)).toEqual([fresh.id]);
    });
  });

  describe('listForUser', () => {
    it('lists only live sessions of that user, newest first', async () => {
      const oldest = makeSession(ALICE, 0, 10 * HOUR);
      const expired = makeSession(ALICE, MINUTE, 30 * MINUTE);
      const newest = makeSession(ALICE, 2 * HOUR, 10 * HOUR);
      const middle = makeSession(ALICE, HOUR, 10 * HOUR);
      const bobs = makeSession(BOB, 3 * HOUR, 10 * HOUR);
      for (const s of [oldest, expired, newest, middle, bobs]) await store.create(s);

      const listed = await store.listForUser(ALICE, at(3 * HOUR));
      expect(listed.map((s) => s.id)).toEqual([newest.id, middle.id, oldest.id]);
      expect(listed).toEqual([newest, middle, oldest]);
    });

    it('is empty for a user without sessions', async () => {
      await store.create(makeSession(BOB));
      await expect(store.listForUser(ALICE, clock.now())).resolves.toEqual([]);
    });
  });

  describe('copies', () => {
    it('is not changed by mutating the object passed to create', async () => {
      const session = makeSession(ALICE);
      const original = { ...session };
      await store.create(session);
      session.userId = BOB;
      session.expiresAt = at(-HOUR);
      session.ip = '198.51.100.1';

      await expect(store.findByTokenDigest(original.tokenDigest, clock.now())).resolves.toEqual(
        original,
      );
    });

    it('is not changed by mutating a found session', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      const found = await store.findByTokenDigest(session.tokenDigest, clock.now());
      expect(found).not.toBeNull();
      found!.expiresAt = at(-HOUR);
      found!.userId = BOB;
      found!.userAgent = 'changed';

      await expect(store.findByTokenDigest(session.tokenDigest, clock.now())).resolves.toEqual(
        session,
      );
      await expect(store.listForUser(BOB, clock.now())).resolves.toEqual([]);
    });

    it('is not changed by mutating a listed session', async () => {
      const session = makeSession(ALICE);
      await store.create(session);
      const [listed] = await store.listForUser(ALICE, clock.now());
      listed.expiresAt = at(-HOUR);
      listed.ip = null;

      await expect(store.listForUser(ALICE, clock.now())).resolves.toEqual([session]);
    });
  });
});
