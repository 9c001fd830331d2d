import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ConfigService } from '@nestjs/config';
import type { Env } from '../config/env.validation.js';
import { ManualClock } from '../../test/support/manual-clock.js';
import { digestToken } from './session-token.js';
import { SessionsService } from './sessions.service.js';
import { MemorySessionStore } from './stores/memory.session-store.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const START = new Date('2030-01-01T00:00:00.000Z');
const ALICE = 'a1a1a1a1-0000-4000-8000-000000000001';
const BOB = 'b2b2b2b2-0000-4000-8000-000000000002';

/** Idle 30 min, absolute 2 h, touch at most once a minute. */
const SETTINGS = {
  SESSION_IDLE_TTL: 30 * 60,
  SESSION_ABSOLUTE_TTL: 2 * 3600,
  SESSION_TOUCH_INTERVAL: 60,
};

const fakeConfig = (values: Record<string, unknown>) =>
  ({ get: (key: string) => values[key] }) as unknown as ConfigService<Env, true>;

describe('SessionsService', () => {
  let clock: ManualClock;
  let store: MemorySessionStore;
  let service: SessionsService;

  const build = (settings: Record<string, unknown> = SETTINGS) =>
    new SessionsService(store, clock, fakeConfig(settings));

  beforeEach(() => {
    clock = new ManualClock(START);
    store = new MemorySessionStore(clock);
    service = build();
  });

  afterEach(() => {
    store.onModuleDestroy();
    jest.restoreAllMocks();
  });

  describe('start', () => {
    it('returns a token and a stored session keyed by its digest', async () => {
      const { token, session } = await service.start(ALICE, {
        ip: '203.0.113.7',
        userAgent: 'curl/8',
      });

      expect(token).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
      expect(session).toMatchObject({
        userId: ALICE,
        tokenDigest: digestToken(token),
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
      const { token, session } = await service.start(ALICE, {});
      expect(JSON.stringify(session)).not.toContain(token);
    });

    it('gives every session its own token and id', async () => {
      const first = await service.start(ALICE, {});
      const second = await service.start(ALICE, {});
      expect(first.token).not.toBe(second.token);
      expect(first.session.id).not.toBe(second.session.id);
    });

    it('expires after the idle TTL when that is sooner than the absolute TTL', async () => {
      const { session } = await service.start(ALICE, {});
      expect(session.expiresAt).toEqual(new Date(START.getTime() + 30 * MINUTE));
      expect(session.absoluteExpiresAt).toEqual(new Date(START.getTime() + 2 * HOUR));
    });

    it('expires at the absolute TTL when that is sooner than the idle TTL', async () => {
      service = build({ ...SETTINGS, SESSION_IDLE_TTL: 3 * 3600, SESSION_ABSOLUTE_TTL: 3600 });
      const { session } = await service.start(ALICE, {});
      expect(session.expiresAt).toEqual(new Date(START.getTime() + HOUR));
      expect(session.absoluteExpiresAt).toEqual(new Date(START.getTime() + HOUR));
    });

    it('stores missing client info as null and truncates long user agents to 256', async () => {
      const bare = await service.start(ALICE, {});
      expect(bare.session.ip).toBeNull();
      expect(bare.session.userAgent).toBeNull();

      const long = await service.start(ALICE, { userAgent: 'x'.repeat(1000), ip: null });
      expect(long.session.userAgent).toBe('x'.repeat(256));
      expect(long.session.ip).toBeNull();
    });
  });

  describe('authenticate', () => {
    it('returns the session for its token', async () => {
      const { token, session } = await service.start(ALICE, {});
      await expect(service.authenticate(token)).resolves.toEqual(session);
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
      await service.start(ALICE, {});
      await expect(service.authenticate('lk_' + 'a'.repeat(43))).resolves.toBeNull();
    });

    it('rejects a token with one character changed', async () => {
      const { token } = await service.start(ALICE, {});
      const last = token.at(-1) === 'A' ? 'B' : 'A';
      await expect(service.authenticate(token.slice(0, -1) + last)).resolves.toBeNull();
    });

    it('does not write within the touch interval', async () => {
      const { token, session } = await service.start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');

      clock.advanceMs(59 * SECOND);
      const seen = await service.authenticate(token);

      expect(touch).not.toHaveBeenCalled();
      expect(seen?.lastUsedAt).toEqual(session.lastUsedAt);
      expect(seen?.expiresAt).toEqual(session.expiresAt);
    });

    it('slides the idle window once the touch interval has passed', async () => {
      const { token, session } = await service.start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');

      clock.advanceMs(MINUTE);
      const now = clock.now();
      const seen = await service.authenticate(token);

      const slid = new Date(now.getTime() + 30 * MINUTE);
      expect(touch).toHaveBeenCalledTimes(1);
      expect(touch).toHaveBeenCalledWith(session.id, now, slid);
      expect(seen).toMatchObject({ id: session.id, lastUsedAt: now, expiresAt: slid });
      await expect(store.findByTokenDigest(session.tokenDigest, now)).resolves.toMatchObject({
        lastUsedAt: now,
        expiresAt: slid,
      });
    });

    it('writes at most once per touch interval under constant use', async () => {
      const { token } = await service.start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');

      // A request every 10 s for 5 minutes: 30 reads.
      for (let i = 0; i < 30; i++) {
        clock.advanceMs(10 * SECOND);
        await expect(service.authenticate(token)).resolves.not.toBeNull();
      }
      expect(touch).toHaveBeenCalledTimes(5);
    });

    it('touches on every use when the touch interval is 0', async () => {
      service = build({ ...SETTINGS, SESSION_TOUCH_INTERVAL: 0 });
      const { token } = await service.start(ALICE, {});
      const touch = jest.spyOn(store, 'touch');
      await service.authenticate(token);
      clock.advanceMs(1);
      await service.authenticate(token);
      expect(touch).toHaveBeenCalledTimes(2);
    });

    it('stays alive while used within the idle TTL', async () => {
      const { token } = await service.start(ALICE, {});
      for (let i = 0; i < 3; i++) {
        clock.advanceMs(29 * MINUTE);
        await expect(service.authenticate(token)).resolves.not.toBeNull();
      }
      // 87 minutes in: well past the first idle deadline of 30 minutes.
      expect(clock.now().getTime() - START.getTime()).toBe(87 * MINUTE);
    });

    it('expires after the idle TTL without use', async () => {
      const { token } = await service.start(ALICE, {});
      clock.advanceMs(30 * MINUTE - 1);
      // Still inside the window; this use slides it.
      await expect(service.authenticate(token)).resolves.not.toBeNull();
      clock.advanceMs(30 * MINUTE);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it('expires exactly at the idle deadline', async () => {
      const { token } = await service.start(ALICE, {});
      clock.advanceMs(30 * MINUTE);
      await expect(service.authenticate(token)).resolves.toBeNull();
      // And stays expired.
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it('expires at the absolute TTL even with constant use', async () => {
      const { token, session } = await service.start(ALICE, {});
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
      const { token, session } = await service.start(ALICE, {});
      for (let i = 0; i < 11; i++) {
        clock.advanceMs(10 * MINUTE);
        await service.authenticate(token);
      }
      // 110 minutes in: now + idle TTL would be 140 minutes, past the 120-minute cap.
      const seen = await service.authenticate(token);
      expect(seen).not.toBeNull();
      expect(seen?.expiresAt).toEqual(session.absoluteExpiresAt);
    });

    it('returns null when the session is revoked between lookup and touch', async () => {
      const { token } = await service.start(ALICE, {});
      clock.advanceMs(MINUTE);
      jest.spyOn(store, 'touch').mockResolvedValueOnce(false);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });
  });

  describe('list', () => {
    it("lists the user's live sessions, newest first", async () => {
      const first = await service.start(ALICE, {});
      clock.advanceMs(MINUTE);
      const second = await service.start(ALICE, {});
      await service.start(BOB, {});

      const listed = await service.list(ALICE);
      expect(listed.map((s) => s.id)).toEqual([second.session.id, first.session.id]);

      clock.advanceMs(30 * MINUTE);
      await expect(service.list(ALICE)).resolves.toEqual([]);
    });
  });

  describe('end and endAll', () => {
    it('end stops the token from working', async () => {
      const { token, session } = await service.start(ALICE, {});
      await expect(service.end(ALICE, session.id)).resolves.toBe(true);
      await expect(service.authenticate(token)).resolves.toBeNull();
    });

    it("end refuses another user's session", async () => {
      const { token, session } = await service.start(ALICE, {});
      await expect(service.end(BOB, session.id)).resolves.toBe(false);
      await expect(service.authenticate(token)).resolves.not.toBeNull();
    });

    it('endAll stops every token of the user', async () => {
      const first = await service.start(ALICE, {});
      const second = await service.start(ALICE, {});
      const bobs = await service.start(BOB, {});

      await service.endAll(ALICE);

      await expect(service.authenticate(first.token)).resolves.toBeNull();
      await expect(service.authenticate(second.token)).resolves.toBeNull();
      await expect(service.authenticate(bobs.token)).resolves.not.toBeNull();
    });

    it('endAll keeps the excepted session', async () => {
      const kept = await service.start(ALICE, {});
      const ended = await service.start(ALICE, {});

      await service.endAll(ALICE, { except: kept.session.id });

      await expect(service.authenticate(kept.token)).resolves.not.toBeNull();
      await expect(service.authenticate(ended.token)).resolves.toBeNull();
    });
  });
});
