import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

@Entity('users')
// A unique index on lower(email), made by a migration: emails are unique case-insensitively in the
// database itself, whatever path writes them. TypeORM cannot describe an index on an expression.
@Index('UQ_users_email', { synchronize: false })
@Check('CHK_users_role', `"role" IN ('user', 'admin')`)
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_users' })
  id!: string;

  /** Stored trimmed and lower-cased. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name!: string | null;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role!: UserRole;

  /** A disabled account cannot log in, and its sessions ended when it was disabled. */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /**
   * Moves on every change that must end sessions (password, logout-all, and later reset, disable,
   * deletion): a session made under an older version is refused, whatever the session store says.
   */
  @Column({ name: 'credential_version', type: 'integer', default: 0 })
  credentialVersion!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
