import type { OnModuleDestroy } from '@nestjs/common';
import { type DataSource, LessThanOrEqual, MoreThan, Not, type Repository } from 'typeorm';
import type { Clock } from '../clock.js';
import type { Session } from '../session.js';
import { SessionRow } from '../session.entity.js';
import { SessionStore } from '../session-store.js';

const PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * Sessions in the `sessions` table: they survive restarts and are shared by every instance using
 * the database. Expired rows are never returned and are purged periodically.
 */
export class PostgresSessionStore extends SessionStore implements OnModuleDestroy {
  private readonly rows: Repository<SessionRow>;
  private readonly purger = setInterval(
    () => void this.purgeExpired().catch(() => undefined),
    PURGE_INTERVAL_MS,
  ).unref();

  constructor(
    dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    super();
    this.rows = dataSource.getRepository(SessionRow);
  }

  onModuleDestroy(): void {
    clearInterval(this.purger);
  }

  async create(session: Session): Promise<void> {
    await this.rows.insert(session);
  }

  async findByTokenDigest(tokenDigest: string, now: Date): Promise<Session | null> {
    return this.rows.findOneBy({ tokenDigest, expiresAt: MoreThan(now) });
  }

  /** One conditional UPDATE: a session deleted or expired meanwhile matches no row, so it stays dead. */
  async touch(id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean> {
    const { affected } = await this.rows.update(
      { id, expiresAt: MoreThan(lastUsedAt) },
      { lastUsedAt, expiresAt },
    );
    return Boolean(affected);
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const { affected } = await this.rows.delete({ id, userId, expiresAt: MoreThan(now) });
    return Boolean(affected);
  }

  async revokeAllForUser(userId: string, exceptId?: string): Promise<void> {
    await this.rows.delete(exceptId ? { userId, id: Not(exceptId) } : { userId });
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
