import type { OnModuleDestroy } from '@nestjs/common';
import {
  type DataSource,
  type EntityManager,
  LessThanOrEqual,
  MoreThan,
  type Repository,
} from 'typeorm';
import {
  type EntityColumns,
  entityColumns,
  type PreparedStatement,
  queryPrepared,
} from '../../database/prepared-statements.js';
import type { Clock } from '../clock.js';
import type { Session } from '../session.js';
import { SessionRow } from '../session.entity.js';
import { type KeptSession, SessionStore, type SessionWithOwner } from '../session-store.js';

const PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * Sessions in the `sessions` table: they survive restarts and are shared by every instance using
 * the database. Expired rows are never returned and are purged periodically.
 */
export class PostgresSessionStore extends SessionStore implements OnModuleDestroy {
  private readonly rows: Repository<SessionRow>;
  private readonly sessionColumns: EntityColumns<SessionRow>;
  /** The accounts' entity, found through the `user` relation: sessions import no feature above them. */
  private readonly ownerColumns: EntityColumns<object>;
  /** The lookups every authenticated request makes: prepared once per connection. */
  private readonly byDigest: PreparedStatement;
  private readonly withOwnerByDigest: PreparedStatement;
  private readonly purger = setInterval(
    () => void this.purgeExpired().catch(() => undefined),
    PURGE_INTERVAL_MS,
  ).unref();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly options: { maxPerUser: number },
  ) {
    super();
    this.rows = dataSource.getRepository(SessionRow);
    this.sessionColumns = entityColumns(dataSource, SessionRow, 's', 's_');
    const owners = dataSource.getMetadata(SessionRow).findRelationWithPropertyPath('user');
    if (!owners) throw new Error("SessionRow has no 'user' relation");
    this.ownerColumns = entityColumns<object>(
      dataSource,
      owners.inverseEntityMetadata.target,
      'u',
      'u_',
    );
    const live = 's.token_digest = $1 AND s.expires_at > $2';
    this.byDigest = {
      name: 'latchkey_session_by_digest',
      text: `SELECT ${this.sessionColumns.select} FROM sessions s WHERE ${live}`,
    };
    this.withOwnerByDigest = {
      name: 'latchkey_session_with_owner_by_digest',
      text: `SELECT ${this.sessionColumns.select}, ${this.ownerColumns.select}
               FROM sessions s JOIN users u ON u.id = s.user_id WHERE ${live}`,
    };
  }

  onModuleDestroy(): void {
    clearInterval(this.purger);
  }

  /**
   * Locks the user's row first: a change of credentials (an UPDATE of that row) either waits for
   * this insert, whose session the guard then refuses, or commits before it, and then no row
   * matches here. The lock also makes one user's logins take turns at the cap.
   */
  async create(session: Session): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const owner = await manager.query(
        `SELECT 1 FROM users WHERE id = $1 AND credential_version = $2 FOR NO KEY UPDATE`,
        [session.userId, session.credentialVersion],
      );
      if (owner.length === 0) return false;
      await manager.insert(SessionRow, session);
      await manager.query(
        `DELETE FROM sessions
          WHERE user_id = $1
            AND (expires_at <= $2 OR credential_version < $3 OR id IN (
              SELECT id FROM sessions
               WHERE user_id = $1 AND expires_at > $2 AND credential_version >= $3
               ORDER BY last_used_at DESC, created_at DESC, id DESC
              OFFSET $4))`,
        [session.userId, session.createdAt, session.credentialVersion, this.options.maxPerUser],
      );
      return true;
    });
  }

  async findByTokenDigest(
    tokenDigest: string,
    now: Date,
    within?: EntityManager,
  ): Promise<Session | null> {
    const values = [tokenDigest, now];
    const [row] = within
      ? ((await within.query(this.byDigest.text, values)) as Record<string, unknown>[])
      : await queryPrepared<Record<string, unknown>>(this.dataSource, this.byDigest, values);
    return row ? this.sessionColumns.read(row) : null;
  }

  /** One statement: the guard's checks then compare the session with the owner of the same snapshot. */
  override async findWithOwnerByTokenDigest(
    tokenDigest: string,
    now: Date,
  ): Promise<SessionWithOwner | null> {
    const [row] = await queryPrepared<Record<string, unknown>>(
      this.dataSource,
      this.withOwnerByDigest,
      [tokenDigest, now],
    );
    return row
      ? { session: this.sessionColumns.read(row), owner: this.ownerColumns.read(row) }
      : null;
  }

  /** One conditional UPDATE: a session deleted or expired meanwhile matches no row, so it stays dead. */
  async touch(userId: string, id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean> {
    const { affected } = await this.rows.update(
      { id, userId, expiresAt: MoreThan(lastUsedAt) },
      { lastUsedAt, expiresAt },
    );
    return Boolean(affected);
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const { affected } = await this.rows.delete({ id, userId, expiresAt: MoreThan(now) });
    return Boolean(affected);
  }

  /** One statement, so the kept session is never seen half-moved. */
  async revokeAllForUser(userId: string, keep?: KeptSession): Promise<void> {
    await this.rows.query(
      `WITH kept AS (
         UPDATE sessions SET credential_version = $3 WHERE user_id = $1 AND id = $2
       )
       DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2`,
      [userId, keep?.id ?? null, keep?.credentialVersion ?? null],
    );
  }

  listForUser(userId: string, now: Date): Promise<Session[]> {
    return this.rows.find({
      where: { userId, expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC' },
    });
  }

  async ping(): Promise<void> {
    await this.rows.query('SELECT 1 FROM sessions LIMIT 1');
  }

  /** Deletes expired sessions; returns how many. */
  async purgeExpired(): Promise<number> {
    const { affected } = await this.rows.delete({ expiresAt: LessThanOrEqual(this.clock.now()) });
    return affected ?? 0;
  }
}
