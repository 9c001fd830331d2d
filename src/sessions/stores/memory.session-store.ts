import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../clock.js';
import type { Session } from '../session.js';
import { type KeptSession, SessionStore } from '../session-store.js';
import { SlotIndex } from './slot-index.js';

const SWEEP_INTERVAL_MS = 60_000;
const ID_BYTES = 16;
const DIGEST_BYTES = 32;
const NONE = -1;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

/** A UUID's 16 bytes, or null for anything else (which no stored session or user can have). */
const uuidBytes = (uuid: string): Buffer | null =>
  UUID.test(uuid) ? Buffer.from(uuid.replaceAll('-', ''), 'hex') : null;

const digestBytes = (digest: string): Buffer | null =>
  HEX_DIGEST.test(digest) ? Buffer.from(digest, 'hex') : null;

const uuidAt = (bytes: Uint8Array, slot: number): string => {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset + slot * ID_BYTES, ID_BYTES).toString(
    'hex',
  );
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

function grown<T extends Float64Array | Int32Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

/**
 * Strings that many sessions share (user agents): each kept once, counted, and dropped with the
 * last session that uses it, so a client sending a new one with every login cannot grow it.
 */
class InternedStrings {
  private readonly indexes = new Map<string, number>();
  private readonly values: (string | undefined)[] = [];
  private readonly uses: number[] = [];
  private readonly free: number[] = [];

  acquire(value: string | null): number {
    if (value === null) return NONE;
    let index = this.indexes.get(value);
    if (index === undefined) {
      index = this.free.pop() ?? this.values.length;
      this.indexes.set(value, index);
      this.values[index] = value;
      this.uses[index] = 0;
    }
    this.uses[index] += 1;
    return index;
  }

  release(index: number): void {
    if (index === NONE) return;
    this.uses[index] -= 1;
    if (this.uses[index] > 0) return;
    this.indexes.delete(this.values[index] as string);
    this.values[index] = undefined;
    this.free.push(index);
  }

  get(index: number): string | null {
    return index === NONE ? null : (this.values[index] as string);
  }
}

/**
 * Sessions in this process's memory: fast and dependency-free, but lost on restart and not shared
 * between instances. Expired sessions are swept, so memory is bounded by live sessions.
 *
 * Packed for a million live sessions: each session is a slot in typed arrays (its id and digest
 * as bytes, its times as numbers), found through open-addressing indexes, and linked into its
 * user's list; a user is a slot too. No object per session lives between requests, so the heap
 * stays small and the collector has little to trace. Callers get fresh Session objects.
 */
@Injectable()
export class MemorySessionStore extends SessionStore implements OnModuleDestroy {
  private capacity = 1024;
  /** Slots below this have been used; a slot whose owner is NONE is free. */
  private highWater = 0;
  private freeSlot = NONE;
  private ids = new Uint8Array(this.capacity * ID_BYTES);
  private digests = new Uint8Array(this.capacity * DIGEST_BYTES);
  private createdAt = new Float64Array(this.capacity);
  private lastUsedAt = new Float64Array(this.capacity);
  private expiresAt = new Float64Array(this.capacity);
  private absoluteExpiresAt = new Float64Array(this.capacity);
  private credentialVersion = new Int32Array(this.capacity);
  private owner = new Int32Array(this.capacity).fill(NONE);
  /** The next session of the same user; for a free slot, the next free slot. */
  private next = new Int32Array(this.capacity);
  private previous = new Int32Array(this.capacity);
  private agent = new Int32Array(this.capacity);
  private readonly ips: (string | null)[] = [];
  private readonly byDigest = new SlotIndex(DIGEST_BYTES, () => this.digests);

  private userCapacity = 1024;
  private userHighWater = 0;
  private freeUser = NONE;
  private userIds = new Uint8Array(this.userCapacity * ID_BYTES);
  /** The user's most recently created session; for a free user slot, the next free one. */
  private firstSession = new Int32Array(this.userCapacity);
  private readonly byUserId = new SlotIndex(ID_BYTES, () => this.userIds);

  private readonly agents = new InternedStrings();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  constructor(
    private readonly clock: Clock,
    private readonly options: { maxPerUser: number },
  ) {
    super();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Synchronous from start to end, so nothing interleaves with the cap's eviction. */
  async create(session: Session): Promise<boolean> {
    const id = uuidBytes(session.id);
    const userId = uuidBytes(session.userId);
    const digest = digestBytes(session.tokenDigest);
    if (!id || !userId || !digest) {
      throw new Error('MemorySessionStore keeps UUID session and user ids and hex SHA-256 digests');
    }
    const now = session.createdAt.getTime();
    const known = this.byUserId.find(userId);
    const others = known === NONE ? [] : this.liveSessionsOf(known, now);
    if (others.some((slot) => this.credentialVersion[slot] > session.credentialVersion)) {
      return false;
    }
    const current: number[] = [];
    for (const slot of others) {
      if (this.credentialVersion[slot] < session.credentialVersion) this.delete(slot);
      else current.push(slot);
    }
    current.sort(this.byLeastRecentlyUsed);
    const excess = Math.max(0, current.length + 1 - this.options.maxPerUser);
    for (const evicted of current.slice(0, excess)) this.delete(evicted);

    // Found again: the deletions above free the user's slot when they drop its last session.
    const found = this.byUserId.find(userId);
    const user = found === NONE ? this.addUser(userId) : found;
    const slot = this.allocate();
    this.ids.set(id, slot * ID_BYTES);
    this.digests.set(digest, slot * DIGEST_BYTES);
    this.createdAt[slot] = now;
    this.lastUsedAt[slot] = session.lastUsedAt.getTime();
    this.expiresAt[slot] = session.expiresAt.getTime();
    this.absoluteExpiresAt[slot] = session.absoluteExpiresAt.getTime();
    this.credentialVersion[slot] = session.credentialVersion;
    this.ips[slot] = session.ip;
    this.agent[slot] = this.agents.acquire(session.userAgent);
    this.owner[slot] = user;
    this.previous[slot] = NONE;
    this.next[slot] = this.firstSession[user];
    if (this.next[slot] !== NONE) this.previous[this.next[slot]] = slot;
    this.firstSession[user] = slot;
    this.byDigest.insert(slot);
    return true;
  }

  async findByTokenDigest(tokenDigest: string, now: Date): Promise<Session | null> {
    const digest = digestBytes(tokenDigest);
    const slot = digest ? this.byDigest.find(digest) : NONE;
    return slot !== NONE && this.isLive(slot, now.getTime()) ? this.session(slot) : null;
  }

  async touch(userId: string, id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean> {
    const slot = this.sessionOf(userId, id, lastUsedAt.getTime());
    if (slot === NONE) return false;
    this.lastUsedAt[slot] = lastUsedAt.getTime();
    this.expiresAt[slot] = expiresAt.getTime();
    return true;
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const slot = this.sessionOf(userId, id, now.getTime());
    if (slot === NONE) return false;
    this.delete(slot);
    return true;
  }

  async revokeAllForUser(userId: string, keep?: KeptSession): Promise<void> {
    const user = this.userSlot(userId);
    if (user === NONE) return;
    const kept = keep && uuidBytes(keep.id);
    for (const slot of this.sessionsOf(user)) {
      if (keep && kept && this.hasId(slot, kept))
        this.credentialVersion[slot] = keep.credentialVersion;
      else this.delete(slot);
    }
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    const user = this.userSlot(userId);
    if (user === NONE) return [];
    return this.liveSessionsOf(user, now.getTime())
      .map((slot) => this.session(slot))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async ping(): Promise<void> {}

  /** Least recently used first; the creation time and then the id break ties, so the order is total. */
  private readonly byLeastRecentlyUsed = (a: number, b: number): number =>
    this.lastUsedAt[a] - this.lastUsedAt[b] ||
    this.createdAt[a] - this.createdAt[b] ||
    Buffer.compare(
      this.ids.subarray(a * ID_BYTES, (a + 1) * ID_BYTES),
      this.ids.subarray(b * ID_BYTES, (b + 1) * ID_BYTES),
    );

  private session(slot: number): Session {
    return {
      id: uuidAt(this.ids, slot),
      userId: uuidAt(this.userIds, this.owner[slot]),
      tokenDigest: Buffer.from(
        this.digests.buffer,
        this.digests.byteOffset + slot * DIGEST_BYTES,
        DIGEST_BYTES,
      ).toString('hex'),
      credentialVersion: this.credentialVersion[slot],
      createdAt: new Date(this.createdAt[slot]),
      lastUsedAt: new Date(this.lastUsedAt[slot]),
      expiresAt: new Date(this.expiresAt[slot]),
      absoluteExpiresAt: new Date(this.absoluteExpiresAt[slot]),
      ip: this.ips[slot],
      userAgent: this.agents.get(this.agent[slot]),
    };
  }

  /** Whether the session has not expired; an expired one is dropped on sight. */
  private isLive(slot: number, now: number): boolean {
    if (this.expiresAt[slot] > now) return true;
    this.delete(slot);
    return false;
  }

  private userSlot(userId: string): number {
    const bytes = uuidBytes(userId);
    return bytes ? this.byUserId.find(bytes) : NONE;
  }

  /** The user's live session with this id, or NONE. */
  private sessionOf(userId: string, id: string, now: number): number {
    const user = this.userSlot(userId);
    const bytes = uuidBytes(id);
    if (user === NONE || !bytes) return NONE;
    const slot = this.sessionsOf(user).find((each) => this.hasId(each, bytes)) ?? NONE;
    return slot !== NONE && this.isLive(slot, now) ? slot : NONE;
  }

  private sessionsOf(user: number): number[] {
    const slots: number[] = [];
    for (let slot = this.firstSession[user]; slot !== NONE; slot = this.next[slot])
      slots.push(slot);
    return slots;
  }

  private liveSessionsOf(user: number, now: number): number[] {
    return this.sessionsOf(user).filter((slot) => this.isLive(slot, now));
  }

  private hasId(slot: number, id: Uint8Array): boolean {
    const start = slot * ID_BYTES;
    for (let i = 0; i < ID_BYTES; i++) if (this.ids[start + i] !== id[i]) return false;
    return true;
  }

  private delete(slot: number): void {
    const user = this.owner[slot];
    this.byDigest.remove(slot);
    if (this.previous[slot] === NONE) this.firstSession[user] = this.next[slot];
    else this.next[this.previous[slot]] = this.next[slot];
    if (this.next[slot] !== NONE) this.previous[this.next[slot]] = this.previous[slot];
    this.agents.release(this.agent[slot]);
    this.ips[slot] = null;
    this.owner[slot] = NONE;
    this.next[slot] = this.freeSlot;
    this.freeSlot = slot;
    if (this.firstSession[user] === NONE) this.removeUser(user);
  }

  private allocate(): number {
    if (this.freeSlot !== NONE) {
      const slot = this.freeSlot;
      this.freeSlot = this.next[slot];
      return slot;
    }
    if (this.highWater === this.capacity) this.growSessions();
    return this.highWater++;
  }

  private growSessions(): void {
    const capacity = this.capacity * 2;
    this.ids = grown(this.ids, capacity * ID_BYTES);
    this.digests = grown(this.digests, capacity * DIGEST_BYTES);
    this.createdAt = grown(this.createdAt, capacity);
    this.lastUsedAt = grown(this.lastUsedAt, capacity);
    this.expiresAt = grown(this.expiresAt, capacity);
    this.absoluteExpiresAt = grown(this.absoluteExpiresAt, capacity);
    this.credentialVersion = grown(this.credentialVersion, capacity);
    this.owner = grown(this.owner, capacity);
    this.owner.fill(NONE, this.capacity);
    this.next = grown(this.next, capacity);
    this.previous = grown(this.previous, capacity);
    this.agent = grown(this.agent, capacity);
    this.capacity = capacity;
  }

  private addUser(userId: Uint8Array): number {
    let user = this.freeUser;
    if (user !== NONE) {
      this.freeUser = this.firstSession[user];
    } else {
      if (this.userHighWater === this.userCapacity) {
        this.userCapacity *= 2;
        this.userIds = grown(this.userIds, this.userCapacity * ID_BYTES);
        this.firstSession = grown(this.firstSession, this.userCapacity);
      }
      user = this.userHighWater++;
    }
    this.userIds.set(userId, user * ID_BYTES);
    this.firstSession[user] = NONE;
    this.byUserId.insert(user);
    return user;
  }

  private removeUser(user: number): void {
    this.byUserId.remove(user);
    this.firstSession[user] = this.freeUser;
    this.freeUser = user;
  }

  private sweep(): void {
    const now = this.clock.now().getTime();
    for (let slot = 0; slot < this.highWater; slot++) {
      if (this.owner[slot] !== NONE) this.isLive(slot, now);
    }
  }
}
