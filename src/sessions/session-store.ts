import type { EntityManager } from 'typeorm';
import type { Session } from './session.js';

/** The session a change keeps alive (the one that made it), moved to the new credential version. */
export interface KeptSession {
  id: string;
  credentialVersion: number;
}

/** A live session and its owner's account, read together in one step. */
export interface SessionWithOwner {
  session: Session;
  /**
   * The owner's account as the accounts' entity (the target of SessionRow's `user` relation)
   * reads it. Unknown here: sessions build on no feature above them.
   */
  owner: unknown;
}

/**
 * Where sessions live. The injection token for the driver chosen by SESSION_STORE.
 *
 * Every driver gives the same guarantees: a lookup never returns an expired or revoked session,
 * a touch never brings back a session that was revoked or expired meanwhile, and a user never has
 * more than `maxPerUser` sessions (the driver's constructor option).
 */
export abstract class SessionStore {
  /**
   * Adds the session and, in the same atomic step, drops the user's expired sessions, those of an
   * older credential version, and then the least recently used ones beyond the cap.
   * Resolves false (and stores nothing) when the store can tell that the session's credential
   * version is no longer the user's: the user has a session of a newer one (every store), or the
   * user's row says so or is gone (the postgres store). Callers re-check the version either way.
   */
  abstract create(session: Session): Promise<boolean>;

  /**
   * The live session with this token digest, or null. `within` is a database transaction under
   * way: a store in the database reads through it, so that transaction needs no second
   * connection from the pool; the other stores have no use for it.
   */
  abstract findByTokenDigest(
    tokenDigest: string,
    now: Date,
    within?: EntityManager,
  ): Promise<Session | null>;

  /**
   * Optional, for a store that keeps sessions beside the accounts: the live session with this
   * token digest and its owner's account as one read (one round trip, one snapshot), or null.
   * Without it, the caller reads the owner itself after findByTokenDigest.
   */
  findWithOwnerByTokenDigest?(tokenDigest: string, now: Date): Promise<SessionWithOwner | null>;

  /** Records use: moves lastUsedAt and expiresAt. False when the session is gone. */
  abstract touch(userId: string, id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean>;

  /** Ends one live session of this user. False when the user has no such live session. */
  abstract revoke(userId: string, id: string, now: Date): Promise<boolean>;

  /** Ends every session of the user except `keep`, which moves to `keep.credentialVersion`. */
  abstract revokeAllForUser(userId: string, keep?: KeptSession): Promise<void>;

  /** The user's live sessions (of any credential version), most recently created first. */
  abstract listForUser(userId: string, now: Date): Promise<Session[]>;

  /** Resolves when the store answers; rejects when it cannot serve sessions (readiness check). */
  abstract ping(): Promise<void>;
}
