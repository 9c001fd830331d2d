import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Checkpoints } from '../common/checkpoints.js';
import { invalidToken } from './bearer-problems.js';
import { Clock } from './clock.js';
import type { Session } from './session.js';
import { SessionStore } from './session-store.js';

/** What a fenced transaction does to sessions. */
export interface Fencing {
  /** The session making the write: it must still be live (and its user current) when the write starts. */
  by?: Session;
  /** The user whose sessions it ends or whose credential version it moves. */
  ends?: string;
}

/** The advisory lock key's text for a user (hashed to a bigint by PostgreSQL). */
export const fenceKey = (userId: string) => `session-owner:${userId}`;

/** Takes the user's fence until the transaction ends (one statement's, outside a transaction). */
const lock = (runner: Pick<EntityManager, 'query'>, userId: string, exclusive: boolean) =>
  runner.query(
    `SELECT ${exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(hashtextextended($1, 0))`,
    [fenceKey(userId)],
  );

/**
 * Orders a user's session-authenticated writes against the end of that user's sessions, on every
 * instance and whatever the store: a PostgreSQL advisory lock per user, taken at the start of the
 * write's own transaction. A write holds its user's lock shared, then checks that its session is
 * still live. Ending sessions holds it exclusively: a disable, a password change or reset for
 * their whole transaction, a logout just after the store dropped its session (`drain`). So a write
 * that passed the guard either commits before the logout answers, or sees its session ended and
 * answers 401. Locks are taken in user-id order and before any row lock that another
 * fenced transaction may hold, so fenced transactions never wait on each other in a cycle.
 */
@Injectable()
export class SessionFence {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly checkpoints: Checkpoints,
  ) {}

  /** Runs `work` in a transaction that holds the fences `fencing` asks for. */
  run<T>(fencing: Fencing, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await this.enter(manager, fencing);
      return work(manager);
    });
  }

  /**
   * Takes the fences in a transaction already under way, until it ends; 401 invalid_token when
   * `by` is no longer live. Before any row lock, unless no fenced transaction can hold that row.
   */
  async enter(manager: EntityManager, { by, ends }: Fencing): Promise<void> {
    const exclusive = new Map<string, boolean>();
    if (by) exclusive.set(by.userId, false);
    if (ends) exclusive.set(ends, true);
    for (const userId of [...exclusive.keys()].sort()) {
      await lock(manager, userId, exclusive.get(userId) as boolean);
    }
    if (by) {
      await this.ensureLive(manager, by);
      await this.checkpoints.reach('session:write-checked', by.userId);
    }
  }

  /**
   * Waits until no write of the user is in flight: for an end of sessions made in the store just
   * before (a logout), so that a write either committed before it or finds its session ended. One
   * statement: the lock is granted once the writes let go, and released as the statement commits.
   * (Ending inside a fenced transaction would hold a pooled connection while the postgres store
   * waits for a second one.)
   */
  async drain(userId: string): Promise<void> {
    await lock(this.dataSource, userId, true);
  }

  /** The guard's check again, now that no end of this user's sessions can be in flight. */
  private async ensureLive(manager: EntityManager, session: Session): Promise<void> {
    const live = await this.store.findByTokenDigest(session.tokenDigest, this.clock.now(), manager);
    const current = (await manager.query(
      'SELECT 1 FROM users WHERE id = $1 AND credential_version = $2 AND NOT disabled',
      [session.userId, session.credentialVersion],
    )) as unknown[];
    if (live?.id !== session.id || current.length === 0) throw invalidToken();
  }
}
