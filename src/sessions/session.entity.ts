import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Session } from './session.js';

/** The `postgres` store's row: one per live session, found by token digest, listed by user. */
@Entity('sessions')
export class SessionRow implements Session {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_sessions' })
  id!: string;

  @Index('IDX_sessions_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /**
   * Deleting a user deletes their sessions with it, whatever else happens. The entity is named,
   * not imported: sessions build on no feature above them.
   */
  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_sessions_user' })
  user?: unknown;

  @Index('UQ_sessions_token_digest', { unique: true })
  @Column({ name: 'token_digest', type: 'char', length: 64 })
  tokenDigest!: string;

  @Column({ name: 'credential_version', type: 'integer' })
  credentialVersion!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt!: Date;

  @Index('IDX_sessions_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'absolute_expires_at', type: 'timestamptz' })
  absoluteExpiresAt!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent!: string | null;
}
