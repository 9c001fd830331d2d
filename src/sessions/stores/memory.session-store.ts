import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../clock.js';
import type { Session } from '../session.js';
import { type KeptSession, SessionStore } from '../session-store.js';

const SWEEP_INTERVAL_MS = 60_000;

/** Callers get (and give) copies, so nothing outside can change a stored session in place. */
const copy = (session: Session): Session => ({
  ...session,
  createdAt: new Date(session.createdAt),
  lastUsedAt: new Date(session.lastUsedAt),
  expiresAt: new Date(session.expiresAt),
  absoluteExpiresAt: new Date(session.absoluteExpiresAt),
});

/** Least recently used first; the creation time and then the id break ties, so the order is total. */
const byLeastRecentlyUsed = (a: Session, b: Session) =>
  a.lastUsedAt.getTime() - b.lastUsedAt.getTime() ||
  a.createdAt.getTime() - b.createdAt.getTime() ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Sessions in this process's memory: fast and dependency-free, but lost on restart and not shared
 * between instances. Expired sessions are swept, so memory is bounded by live sessions.
 */
@Injectable()
export class MemorySessionStore extends SessionStore implements OnModuleDestroy {
  private readonly byId = new Map<string, Session>();
  private readonly idByDigest = new Map<string, string>();
  private readonly idsByUser = new Map<string, Set<string>>();
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
    const others = [...(this.idsByUser.get(session.userId) ?? [])]
      .map((id) => this.live(id, session.createdAt))
      .filter((other): other is Session => other !== undefined);
    if (others.some((other) => other.credentialVersion > session.credentialVersion)) return false;
    for (const stale of others.filter((o) => o.credentialVersion < session.credentialVersion)) {
      this.delete(stale);
    }
    const current = others
      .filter((other) => other.credentialVersion >= session.credentialVersion)
      .sort(byLeastRecentlyUsed);
    const excess = Math.max(0, current.length + 1 - this.options.maxPerUser);
    for (const evicted of current.slice(0, excess)) {
      this.delete(evicted);
    }
    this.byId.set(session.id, copy(session));
    this.idByDigest.set(session.tokenDigest, session.id);
    const ids = this.idsByUser.get(session.userId) ?? new Set<string>();
    this.idsByUser.set(session.userId, ids.add(session.id));
    return true;
  }

  async findByTokenDigest(tokenDigest: string, now: Date): Promise<Session | null> {
    const id = this.idByDigest.get(tokenDigest);
    const session = id === undefined ? undefined : this.live(id, now);
    return session ? copy(session) : null;
  }

  async touch(userId: string, id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean> {
    const session = this.live(id, lastUsedAt);
    if (!session || session.userId !== userId) return false;
    session.lastUsedAt = new Date(lastUsedAt);
    session.expiresAt = new Date(expiresAt);
    return true;
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const session = this.live(id, now);
    if (!session || session.userId !== userId) return false;
    this.delete(session);
    return true;
  }

  async revokeAllForUser(userId: string, keep?: KeptSession): Promise<void> {
    for (const id of this.idsByUser.get(userId) ?? []) {
      const session = this.byId.get(id);
      if (!session) continue;
      if (id === keep?.id) session.credentialVersion = keep.credentialVersion;
      else this.delete(session);
    }
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    return [...(this.idsByUser.get(userId) ?? [])]
      .map((id) => this.live(id, now))
      .filter((session): session is Session => session !== undefined)
      .map(copy)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async ping(): Promise<void> {}

  /** The session if it has not expired; an expired one is dropped on sight. */
  private live(id: string, now: Date): Session | undefined {
    const session = this.byId.get(id);
    if (session && session.expiresAt <= now) {
      this.delete(session);
      return undefined;
    }
    return session;
  }

  private delete(session: Session): void {
    this.byId.delete(session.id);
    this.idByDigest.delete(session.tokenDigest);
    const ids = this.idsByUser.get(session.userId);
    ids?.delete(session.id);
    if (ids?.size === 0) this.idsByUser.delete(session.userId);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const id of [...this.byId.keys()]) this.live(id, now);
  }
}
