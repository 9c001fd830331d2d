import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type SessionConfig, sessionConfig } from '../config/session.config.js';
import { Clock } from './clock.js';
import type { Session } from './session.js';
import { type KeptSession, SessionStore } from './session-store.js';
import { digestsEqual, digestToken, generateToken, isWellFormedToken } from './session-token.js';

/** The sizes of the `sessions` columns; longer values (a forged X-Forwarded-For, say) are cut. */
const USER_AGENT_MAX_LENGTH = 256;
const IP_MAX_LENGTH = 64;

/** Whose session to start: the user and the credential version read before the password was checked. */
export interface SessionOwner {
  id: string;
  credentialVersion: number;
}

/** What a bearer token opened: its session, and the owner's account when the store read it too. */
export interface Authenticated {
  session: Session;
  /** As SessionWithOwner's; absent when the store keeps no accounts: the caller reads it itself. */
  owner?: unknown;
}

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

/** Session policy (lifetimes, sliding, write throttling) on top of whichever SessionStore is configured. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    @Inject(sessionConfig.KEY) private readonly config: SessionConfig,
  ) {}

  /**
   * Starts a session; the token is returned once and never stored. Null when the store refused it
   * because the owner is gone or its credentials changed since they were read.
   */
  async start(
    owner: SessionOwner,
    client: ClientInfo,
  ): Promise<{ token: string; session: Session } | null> {
    const now = this.clock.now();
    const token = generateToken();
    const absoluteExpiresAt = new Date(now.getTime() + this.config.absoluteTtlMs);
    const session: Session = {
      id: randomUUID(),
      userId: owner.id,
      tokenDigest: digestToken(token),
      credentialVersion: owner.credentialVersion,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: this.expiryAfterUse(now, absoluteExpiresAt),
      absoluteExpiresAt,
      ip: client.ip?.slice(0, IP_MAX_LENGTH) ?? null,
      userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
    };
    return (await this.store.create(session)) ? { token, session } : null;
  }

  /**
   * The live session for a bearer token, its idle window slid (with its owner, when the store reads
   * both at once); null for any token we would not accept.
   */
  async authenticate(token: string): Promise<Authenticated | null> {
    if (!isWellFormedToken(token)) return null;
    const now = this.clock.now();
    const digest = digestToken(token);
    const found = await this.find(digest, now);
    if (!found || !digestsEqual(found.session.tokenDigest, digest)) return null;
    const { session } = found;
    // Sliding rewrites at most once per touch interval, so reads do not all become writes.
    if (now.getTime() - session.lastUsedAt.getTime() < this.config.touchIntervalMs) return found;
    const expiresAt = this.expiryAfterUse(now, session.absoluteExpiresAt);
    if (!(await this.store.touch(session.userId, session.id, now, expiresAt))) return null;
    return { ...found, session: { ...session, lastUsedAt: now, expiresAt } };
  }

  /** The user's sessions that still count: live, and made under the current credential version. */
  async list(owner: SessionOwner): Promise<Session[]> {
    const sessions = await this.store.listForUser(owner.id, this.clock.now());
    return sessions.filter((session) => session.credentialVersion === owner.credentialVersion);
  }

  end(userId: string, sessionId: string): Promise<boolean> {
    return this.store.revoke(userId, sessionId, this.clock.now());
  }

  /** Ends every session of the user but `keep`, which moves to the user's new credential version. */
  endAll(userId: string, keep?: KeptSession): Promise<void> {
    return this.store.revokeAllForUser(userId, keep);
  }

  private async find(digest: string, now: Date): Promise<Authenticated | null> {
    if (this.store.findWithOwnerByTokenDigest) {
      return this.store.findWithOwnerByTokenDigest(digest, now);
    }
    const session = await this.store.findByTokenDigest(digest, now);
    return session && { session };
  }

  private expiryAfterUse(now: Date, absoluteExpiresAt: Date): Date {
    return new Date(Math.min(now.getTime() + this.config.idleTtlMs, absoluteExpiresAt.getTime()));
  }
}
