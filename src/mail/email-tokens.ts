import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type MailConfig, mailConfig } from '../config/mail.config.js';
import { Clock } from '../sessions/clock.js';
import { EmailToken, type TokenKind } from './email-token.entity.js';

const PREFIXES: Record<TokenKind, string> = { verify: 'lkv_', reset: 'lkr_' };
const TOKEN_PATTERN = /^lk[vr]_[A-Za-z0-9_-]{43}$/;

export const digestEmailToken = (token: string) =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** Tokens of any other shape were never issued: they need no query. */
export const isWellFormedEmailToken = (token: string) => TOKEN_PATTERN.test(token);

export interface ConsumedToken {
  userId: string;
  email: string;
}

/** Issues and consumes the tokens sent by mail; only their digests are stored. */
@Injectable()
export class EmailTokens {
  constructor(
    @Inject(mailConfig.KEY) private readonly config: MailConfig,
    private readonly clock: Clock,
  ) {}

  /** A new token of `kind` for the user, voiding every older one of that kind. */
  async issue(
    manager: EntityManager,
    kind: TokenKind,
    userId: string,
    email: string,
  ): Promise<string> {
    const token = PREFIXES[kind] + randomBytes(32).toString('base64url');
    const ttl = kind === 'verify' ? this.config.verifyTokenTtlMs : this.config.resetTokenTtlMs;
    await this.voidAll(manager, kind, userId);
    await manager.insert(EmailToken, {
      digest: digestEmailToken(token),
      userId,
      kind,
      email,
      expiresAt: new Date(this.clock.now().getTime() + ttl),
    });
    return token;
  }

  /**
   * Uses the token up: one conditional DELETE … RETURNING, so of two concurrent uses exactly one
   * gets the row (the other waits on its lock, then finds it gone). Undefined: unknown, used,
   * voided or expired.
   */
  async consume(
    manager: EntityManager,
    kind: TokenKind,
    token: string,
  ): Promise<ConsumedToken | undefined> {
    if (!isWellFormedEmailToken(token)) return undefined;
    const [rows] = (await manager.query(
      `DELETE FROM "email_tokens" WHERE "digest" = $1 AND "kind" = $2 AND "expires_at" > $3
       RETURNING "user_id" AS "userId", "email"`,
      [digestEmailToken(token), kind, this.clock.now()],
    )) as [ConsumedToken[], number];
    return rows[0];
  }

  /** Whose live token this is, and the address it went to, without using it up or locking it. */
  async peek(
    manager: EntityManager,
    kind: TokenKind,
    token: string,
  ): Promise<ConsumedToken | undefined> {
    if (!isWellFormedEmailToken(token)) return undefined;
    const rows = (await manager.query(
      `SELECT "user_id" AS "userId", "email" FROM "email_tokens"
        WHERE "digest" = $1 AND "kind" = $2 AND "expires_at" > $3`,
      [digestEmailToken(token), kind, this.clock.now()],
    )) as ConsumedToken[];
    return rows[0];
  }

  async voidAll(manager: EntityManager, kind: TokenKind, userId: string): Promise<void> {
    await manager.delete(EmailToken, { userId, kind });
  }
}
