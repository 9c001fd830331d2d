import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import type { Env } from '../config/env.validation.js';
import { Clock } from './clock.js';
import type { Session } from './session.js';
import { SessionStore } from './session-store.js';
import { digestsEqual, digestToken, generateToken, isWellFormedToken } from './session-token.js';

/** The sizes of the `sessions` columns; longer values (a forged X-Forwarded-For, say) are cut. */
const USER_AGENT_MAX_LENGTH = 256;
const IP_MAX_LENGTH = 64;

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

/** Session policy (lifetimes, sliding, write throttling) on top of whichever SessionStore is configured. */
@Injectable()
export class SessionsService {
  private readonly idleTtlMs: number;
  private readonly absoluteTtlMs: number;
  private readonly touchIntervalMs: number;

  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    config: ConfigService<Env, true>,
  ) {
    this.idleTtlMs = config.get('SESSION_IDLE_TTL', { infer: true }) * 1000;
    this.absoluteTtlMs = config.get('SESSION_ABSOLUTE_TTL', { infer: true }) * 1000;
    this.touchIntervalMs = config.get('SESSION_TOUCH_INTERVAL', { infer: true }) * 1000;
  }

  /** Starts a session; the token is returned once and never stored. */
  async start(userId: string, client: ClientInfo): Promise<{ token: string; session: Session }> {
    const now = this.clock.now();
    const token = generateToken();
    const absoluteExpiresAt = new Date(now.getTime() + this.absoluteTtlMs);
    const session: Session = {
      id: randomUUID(),
      userId,
      tokenDigest: digestToken(token),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: this.expiryAfterUse(now, absoluteExpiresAt),
      absoluteExpiresAt,
      ip: client.ip?.slice(0, IP_MAX_LENGTH) ?? null,
      userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
    };
    await this.store.create(session);
    return { token, session };
  }

  /** The live session for a bearer token, its idle window slid; null for any token we would not accept. */
  async authenticate(token: string): Promise<Session | null> {
    if (!isWellFormedToken(token)) return null;
    const now = this.clock.now();
    const digest = digestToken(token);
    const session = await this.store.findByTokenDigest(digest, now);
    if (!session || !digestsEqual(session.tokenDigest, digest)) return null;
    // Sliding rewrites at most once per touch interval, so reads do not all become writes.
    if (now.getTime() - session.lastUsedAt.getTime() < this.touchIntervalMs) return session;
    const expiresAt = this.expiryAfterUse(now, session.absoluteExpiresAt);
    if (!(await this.store.touch(session.id, now, expiresAt))) return null;
    return { ...session, lastUsedAt: now, expiresAt };
  }

  list(userId: string): Promise<Session[]> {
    return this.store.listForUser(userId, this.clock.now());
  }

  end(userId: string, sessionId: string): Promise<boolean> {
    return this.store.revoke(userId, sessionId, this.clock.now());
  }

  endAll(userId: string, options: { except?: string } = {}): Promise<void> {
    return this.store.revokeAllForUser(userId, options.except);
  }

  private expiryAfterUse(now: Date, absoluteExpiresAt: Date): Date {
    return new Date(Math.min(now.getTime() + this.idleTtlMs, absoluteExpiresAt.getTime()));
  }
}
