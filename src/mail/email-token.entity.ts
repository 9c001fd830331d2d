import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

export const TOKEN_KINDS = ['verify', 'reset'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/**
 * A token sent by mail (verify an email, reset a password), stored only as the SHA-256 digest of
 * the token. It is issued by the outbox worker as the message is sent, so the plaintext exists only
 * in that message; it is consumed by one conditional DELETE … RETURNING.
 */
@Entity('email_tokens')
@Index('IDX_email_tokens_user_kind', ['userId', 'kind'])
@Check('CHK_email_tokens_kind', `"kind" IN ('verify', 'reset')`)
export class EmailToken {
  @PrimaryColumn({ type: 'char', length: 64, primaryKeyConstraintName: 'PK_email_tokens' })
  digest!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** Named, not imported: mail/ builds on no feature above it. */
  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_email_tokens_user' })
  user?: unknown;

  @Column({ type: 'varchar', length: 16 })
  kind!: TokenKind;

  /** The address the token was sent to: a verify token proves only that one. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
