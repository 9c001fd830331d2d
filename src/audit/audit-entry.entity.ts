import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The security events the log records; the API's `action` filter takes exactly these. */
export const AUDIT_ACTIONS = [
  'registered',
  'email_verified',
  'login_succeeded',
  'login_failed',
  'logout',
  'logout_all',
  'session_revoked',
  'password_changed',
  'password_reset_requested',
  'password_reset_completed',
  'email_changed',
  'user_deleted',
  'role_changed',
  'account_disabled',
  'account_enabled',
  'sessions_revoked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an event adds to who, what and whom: the email a login tried, a role's old and new value. */
export type AuditDetails = Record<string, string | null>;

/** One row of the append-only audit log (the table refuses updates; see its migration). */
@Entity('audit_log')
@Index('IDX_audit_log_at', ['at', 'id'])
@Index('IDX_audit_log_actor', ['actorId', 'at'])
@Index('IDX_audit_log_target', ['targetId', 'at'])
@Index('IDX_audit_log_action', ['action', 'at'])
export class AuditEntry {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_audit_log' })
  id!: string;

  /** The database's clock at the insert (clock_timestamp, so rows of one transaction stay ordered). */
  @Column({ type: 'timestamptz', default: () => 'clock_timestamp()' })
  at!: Date;

  /** Who acted: null for an anonymous request (a failed login) and for the command line. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 40 })
  action!: AuditAction;

  /** The account acted on; null when there is none (a login with an unknown email). */
  @Column({ name: 'target_id', type: 'uuid', nullable: true })
  targetId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  details!: AuditDetails | null;
}
