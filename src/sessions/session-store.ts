import type { Session } from './session.js';

/**
 * Where sessions live. The injection token for the driver chosen by SESSION_STORE.
 *
 * Every driver gives the same guarantees: a lookup never returns an expired or revoked session,
 * and a touch never brings back a session that was revoked or expired meanwhile.
 */
export abstract class SessionStore {
  abstract create(session: Session): Promise<void>;

  /** The live session with this token digest, or null. */
  abstract findByTokenDigest(tokenDigest: string, now: Date): Promise<Session | null>;

  /** Records use: moves lastUsedAt and expiresAt. False when the session is gone. */
  abstract touch(id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean>;

  /** Ends one live session of this user. False when the user has no such live session. */
  abstract revoke(userId: string, id: string, now: Date): Promise<boolean>;

  /** Ends every session of the user, except `exceptId` when given. */
  abstract revokeAllForUser(userId: string, exceptId?: string): Promise<void>;

  /** The user's live sessions, most recently created first. */
  abstract listForUser(userId: string, now: Date): Promise<Session[]>;

  /** Resolves when the store answers; rejects when it cannot serve sessions (readiness check). */
  abstract ping(): Promise<void>;
}
