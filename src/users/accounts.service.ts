import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service.js';
import type { Origin } from '../audit/origin.js';
import { Checkpoints } from '../common/checkpoints.js';
import { ProblemException, validationFailed } from '../common/problem.exception.js';
import { digestEmailToken, EmailTokens } from '../mail/email-tokens.js';
import { MailOutbox } from '../mail/outbox.js';
import { invalidToken } from '../sessions/bearer-problems.js';
import type { Session } from '../sessions/session.js';
import { SessionFence } from '../sessions/session-fence.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import { normalizeEmail } from './dto/user-fields.js';
import { blocklistReason } from './password-blocklist.js';
import { PasswordService } from './password.service.js';
import { PwnedPasswords } from './pwned-passwords.js';
import { User, type UserRole } from './user.entity.js';
import { userNotFound, UsersService } from './users.service.js';

export interface NewUser {
  email: string;
  password: string;
  name?: string | null;
}

/** Who is making a change: decides whether the current password must be confirmed. */
export interface Actor {
  user: User;
  session: Session;
}

/** What an admin (or the command line) may change about an account. */
export interface AdminChange {
  role?: UserRole;
  disabled?: boolean;
}

/** How an account is made: the command line makes admins, already vouched for by the operator. */
export interface Provisioning {
  role?: UserRole;
  emailVerified?: boolean;
}

/** The columns a change writes; `endsSessions` moves the credential version with them. */
interface Change {
  set: Partial<Pick<User, 'email' | 'name' | 'passwordHash' | 'emailVerified'>>;
  endsSessions: boolean;
}

export const invalidOrExpiredToken = () =>
  new ProblemException(
    400,
    'invalid_or_expired_token',
    'This link is invalid, used, replaced by a newer one, or expired. Ask for a new one.',
  );

export const lastAdmin = () =>
  new ProblemException(
    409,
    'last_admin',
    'This is the last active admin: promote another account first, then demote or disable this one.',
  );

const changedMeanwhile = () =>
  new ProblemException(
    409,
    'conflict',
    'The account changed while this request ran (its password, say). Read it again and retry.',
  );

/**
 * The one place where accounts change. Each change is one transaction; an update is conditional on
 * the row read before it (same id, same credential version), so an account that is gone stays
 * gone and a profile change never undoes a credential change that committed meanwhile. A change
 * that must end sessions moves the credential version in that transaction: from its commit on,
 * the guard refuses every older session on every instance. Telling the session store afterwards
 * is only clean-up. The audit row of a change is written in its transaction.
 */
@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly fence: SessionFence,
    private readonly checkpoints: Checkpoints,
    private readonly outbox: MailOutbox,
    private readonly tokens: EmailTokens,
    private readonly audit: AuditLog,
    private readonly pwned: PwnedPasswords,
  ) {}

  /**
   * The rules a new password meets beyond its body's validation, which needs the account: not built
   * on any of its addresses, and not in a breach corpus (when the range API is configured).
   */
  private async checkNewPassword(password: string, emails: string[]): Promise<void> {
    const reason =
      blocklistReason(password, emails) ??
      ((await this.pwned.isBreached(password))
        ? 'has appeared in a data breach; choose another'
        : undefined);
    if (reason) throw validationFailed([{ field: 'password', message: reason }]);
  }

  /**
   * Inserts the user and enqueues its verification message (unless already verified), in one
   * transaction. A taken email surfaces as the unique index's violation (409 email_taken).
   */
  async register(
    { email, password, name }: NewUser,
    origin: Origin,
    { role = 'user', emailVerified = false }: Provisioning = {},
  ): Promise<User> {
    await this.checkNewPassword(password, [email]);
    const passwordHash = await this.passwords.hash(password);
    const values = {
      email: normalizeEmail(email),
      name: name ?? null,
      passwordHash,
      role,
      emailVerified,
    };
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.save(manager.create(User, values));
      await this.audit.record(manager, origin, { action: 'registered', targetId: user.id });
      if (role !== 'user')
        await this.audit.record(manager, origin, {
          action: 'role_changed',
          targetId: user.id,
          details: { from: 'user', to: role },
        });
      if (!emailVerified)
        await this.outbox.enqueue(manager, {
          kind: 'verify-email',
          to: user.email,
          userId: user.id,
        });
      return user;
    });
  }

  /**
   * Enumeration-safe registration: the same work and no answer for a new and a taken email. A new
   * one is inserted and sent its verification; for a taken one nothing is inserted and its owner
   * is told by mail instead.
   */
  async registerQuietly({ email, password, name }: NewUser, origin: Origin): Promise<void> {
    await this.checkNewPassword(password, [email]);
    const passwordHash = await this.passwords.hash(password);
    const values = { email: normalizeEmail(email), name: name ?? null, passwordHash };
    await this.dataSource.transaction(async (manager) => {
      const [inserted] = (await manager.query(
        `INSERT INTO "users" ("email", "name", "password_hash") VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING "id"`,
        [values.email, values.name, values.passwordHash],
      )) as { id: string }[];
      if (inserted)
        await this.audit.record(manager, origin, { action: 'registered', targetId: inserted.id });
      await this.outbox.enqueue(
        manager,
        inserted
          ? { kind: 'verify-email', to: values.email, userId: inserted.id }
          : { kind: 'registration-attempt', to: values.email },
      );
    });
  }

  /** Marks the email verified: the token must be a live verify token sent to the current address. */
  async verifyEmail(token: string, origin: Origin): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.checkpoints.reach('token:consuming', digestEmailToken(token));
      const consumed = await this.tokens.consume(manager, 'verify', token);
      if (!consumed) throw invalidOrExpiredToken();
      const { affected } = await manager.update(
        User,
        { id: consumed.userId, email: consumed.email },
        { emailVerified: true },
      );
      if (!affected) throw invalidOrExpiredToken();
      await this.audit.record(manager, origin, {
        action: 'email_verified',
        targetId: consumed.userId,
      });
    });
  }

  /** Sends a new verification message (voiding the older link); nothing when already verified. */
  async resendVerification(session: Session): Promise<void> {
    await this.fence.run({ by: session }, async (manager) => {
      const user = await manager.findOneBy(User, { id: session.userId });
      if (!user) throw userNotFound();
      if (user.emailVerified) return;
      await this.outbox.enqueue(manager, { kind: 'verify-email', to: user.email, userId: user.id });
    });
  }

  /**
   * Enqueues a reset message when the email is an account's; the same little work either way (one
   * lookup; the token, rendering and sending happen on the worker), so the answer tells nothing.
   */
  async requestPasswordReset(email: string, origin: Origin): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await manager.findOneBy(User, { email: normalizeEmail(email) });
      // An unknown email is recorded too (no target): a run of them is someone probing.
      await this.audit.record(manager, origin, {
        action: 'password_reset_requested',
        targetId: user?.id ?? null,
        details: { email: normalizeEmail(email) },
      });
      if (user)
        await this.outbox.enqueue(manager, {
          kind: 'password-reset',
          to: user.email,
          userId: user.id,
        });
    });
  }

  /**
   * One transaction: use the token up, store the new hash, move the credential version (every
   * session ends), void the other reset tokens, and enqueue the "password changed" notice.
   */
  async resetPassword(token: string, password: string, origin: Origin): Promise<void> {
    const pending = await this.tokens.peek(this.dataSource.manager, 'reset', token);
    if (!pending) throw invalidOrExpiredToken();
    // Before any transaction, as the breach check may wait on a remote API; a refusal leaves the
    // link working for a better password.
    await this.checkNewPassword(password, [pending.email]);
    const passwordHash = await this.passwords.hash(password);
    const userId = await this.dataSource.transaction(async (manager) => {
      await this.checkpoints.reach('token:consuming', digestEmailToken(token));
      // The fence before the token's row: a delete of the user holds the fence, then (cascading)
      // the token rows, so taking them the other way round could deadlock with it.
      await this.fence.enter(manager, { ends: pending.userId });
      const consumed = await this.tokens.consume(manager, 'reset', token);
      if (!consumed) throw invalidOrExpiredToken();
      const user = await manager.findOneBy(User, { id: consumed.userId });
      if (!user) throw invalidOrExpiredToken();
      await manager.update(
        User,
        { id: user.id },
        { passwordHash, credentialVersion: () => 'credential_version + 1' },
      );
      await this.tokens.voidAll(manager, 'reset', user.id);
      await this.outbox.enqueue(manager, { kind: 'password-changed', to: user.email });
      await this.audit.record(manager, origin, {
        action: 'password_reset_completed',
        targetId: user.id,
      });
      return user.id;
    });
    await this.sessions.endAll(userId);
  }

  async update(id: string, changes: UpdateUserDto, actor: Actor, origin: Origin): Promise<User> {
    const isSelf = actor.user.id === id;
    const user = await this.users.findById(id);
    // Your own account gone since the guard read it: your session ended with it.
    if (!user) throw isSelf ? invalidToken() : userNotFound();
    await this.checkpoints.reach('account:read', id);
    // The actor's session was made before a credential change that committed since the guard
    // accepted it: it is over, and must not be kept (moved to a newer version) by this change.
    if (isSelf && user.credentialVersion !== actor.session.credentialVersion) throw invalidToken();
    const newEmail =
      changes.email !== undefined && changes.email !== user.email ? changes.email : undefined;
    const newPassword = changes.password;
    if (isSelf && (newEmail !== undefined || newPassword !== undefined)) {
      await this.confirmCurrentPassword(user, changes.currentPassword);
    }
    if (newPassword !== undefined)
      await this.checkNewPassword(newPassword, [user.email, ...(newEmail ? [newEmail] : [])]);
    const change: Change = { set: {}, endsSessions: newPassword !== undefined };
    if (changes.name !== undefined) change.set.name = changes.name;
    if (newEmail !== undefined)
      Object.assign(change.set, { email: newEmail, emailVerified: false });
    if (newPassword !== undefined) change.set.passwordHash = await this.passwords.hash(newPassword);
    if (Object.keys(change.set).length === 0) return user;

    const fencing = { by: actor.session, ends: change.endsSessions ? id : undefined };
    const updated = await this.fence.run(fencing, async (manager) => {
      const written = await this.apply(manager, user, change);
      if (newEmail !== undefined) {
        await this.audit.record(manager, origin, {
          action: 'email_changed',
          targetId: user.id,
          details: { from: user.email, to: written.email },
        });
        // Links sent to the old address prove nothing about the new one.
        await this.tokens.voidAll(manager, 'verify', user.id);
        await this.outbox.enqueue(manager, {
          kind: 'verify-email',
          to: written.email,
          userId: user.id,
        });
        await this.outbox.enqueue(manager, {
          kind: 'email-changed',
          to: user.email,
          newEmail: written.email,
        });
      }
      if (newPassword !== undefined) {
        await this.audit.record(manager, origin, {
          action: 'password_changed',
          targetId: user.id,
        });
        await this.outbox.enqueue(manager, { kind: 'password-changed', to: written.email });
      }
      return written;
    });
    if (change.endsSessions) {
      // The session that made the change stays (moved to the new version); every other one ends.
      await this.sessions.endAll(
        id,
        isSelf ? { id: actor.session.id, credentialVersion: updated.credentialVersion } : undefined,
      );
    }
    return updated;
  }

  async remove(id: string, by: Session, origin: Origin): Promise<void> {
    await this.fence.run({ by, ends: id }, async (manager) => {
      const { affected } = await manager.delete(User, { id });
      if (!affected) throw userNotFound();
      await this.audit.record(manager, origin, { action: 'user_deleted', targetId: id });
    });
    await this.sessions.endAll(id);
  }

  /**
   * Ends every session of the user, including any that a login in flight is about to start: the
   * credential version moves, so those are refused too. `action` says who asked: the user
   * (logout_all) or an admin (sessions_revoked); `by` is their session (none on the command line).
   */
  async endAllSessions(
    id: string,
    origin: Origin,
    {
      action = 'logout_all',
      by,
    }: { action?: 'logout_all' | 'sessions_revoked'; by?: Session } = {},
  ): Promise<void> {
    await this.fence.run({ by, ends: id }, async (manager) => {
      const { affected } = await manager.increment(User, { id }, 'credentialVersion', 1);
      if (!affected) throw userNotFound();
      await this.audit.record(manager, origin, { action, targetId: id });
    });
    await this.sessions.endAll(id);
  }

  /**
   * An admin's (or the command line's) change of role or disabled. Demoting or disabling ends the
   * account's sessions. The active admins' rows are locked first, in one order, so two changes
   * that would each leave one admin run one after the other, and the second sees the first's
   * result: the last active admin cannot be demoted or disabled (409 last_admin), however the
   * requests interleave.
   */
  async administer(id: string, change: AdminChange, origin: Origin, by?: Session): Promise<User> {
    await this.users.getById(id);
    await this.checkpoints.reach('account:read', id);
    let endsSessions = false;
    const updated = await this.fence.run({ by, ends: id }, async (manager) => {
      const admins = (await manager.query(
        `SELECT "id" FROM "users" WHERE "role" = 'admin' AND NOT "disabled" ORDER BY "id" FOR UPDATE`,
      )) as { id: string }[];
      const user = await manager.findOne(User, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!user) throw userNotFound();
      const role = change.role ?? user.role;
      const disabled = change.disabled ?? user.disabled;
      const wasActiveAdmin = admins.some((admin) => admin.id === id);
      const staysActiveAdmin = role === 'admin' && !disabled;
      if (wasActiveAdmin && !staysActiveAdmin && admins.length === 1) throw lastAdmin();
      endsSessions = (role !== user.role && role === 'user') || (disabled && !user.disabled);
      if (role === user.role && disabled === user.disabled) return user;
      await manager.update(
        User,
        { id },
        {
          role,
          disabled,
          ...(endsSessions ? { credentialVersion: () => 'credential_version + 1' } : {}),
        },
      );
      if (role !== user.role)
        await this.audit.record(manager, origin, {
          action: 'role_changed',
          targetId: id,
          details: { from: user.role, to: role },
        });
      if (disabled !== user.disabled)
        await this.audit.record(manager, origin, {
          action: disabled ? 'account_disabled' : 'account_enabled',
          targetId: id,
        });
      return manager.findOneByOrFail(User, { id });
    });
    if (endsSessions) await this.sessions.endAll(id);
    return updated;
  }

  /** True while the user exists with this credential version (a login re-checks it). */
  async isCurrent(id: string, credentialVersion: number): Promise<boolean> {
    return this.dataSource.getRepository(User).existsBy({ id, credentialVersion });
  }

  /**
   * Stores a hash made with the current parameters, unless the password changed meanwhile
   * (the condition on the old hash keeps a concurrent password change from being undone).
   */
  async rehashPassword(user: User, password: string): Promise<void> {
    const passwordHash = await this.passwords.hash(password);
    await this.dataSource
      .getRepository(User)
      .update({ id: user.id, passwordHash: user.passwordHash }, { passwordHash });
  }

  /** The conditional write of a change: no row matches once the account is gone or changed. */
  private async apply(manager: EntityManager, read: User, change: Change): Promise<User> {
    const { affected } = await manager
      .createQueryBuilder()
      .update(User)
      .set({
        ...change.set,
        ...(change.endsSessions ? { credentialVersion: () => 'credential_version + 1' } : {}),
      })
      .where('id = :id AND credential_version = :version', {
        id: read.id,
        version: read.credentialVersion,
      })
      .execute();
    if (!affected) {
      if (!(await manager.existsBy(User, { id: read.id }))) throw userNotFound();
      throw changedMeanwhile();
    }
    return manager.findOneByOrFail(User, { id: read.id });
  }

  private async confirmCurrentPassword(
    user: User,
    currentPassword: string | undefined,
  ): Promise<void> {
    if (
      currentPassword === undefined ||
      !(await this.passwords.verify(user.passwordHash, currentPassword))
    ) {
      throw new ProblemException(
        400,
        'invalid_current_password',
        'Confirm this change with your current password.',
        {
          errors: [{ field: 'currentPassword', message: 'is missing or wrong' }],
        },
      );
    }
  }
}
