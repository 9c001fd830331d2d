import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type AuditConfig, auditConfig } from '../config/audit.config.js';
import { AuditEntry } from './audit-entry.entity.js';

/** How often each instance offers to purge; only one at a time does (the advisory lock). */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** The first offer comes soon after start-up, so instances that restart often still purge. */
const FIRST_PURGE_MS = 60 * 1000;
/** The advisory lock key of the purge (any fixed bigint; this one spells "audit"). */
export const PURGE_LOCK = 0x6175646974;

/**
 * Deletes audit rows older than AUDIT_RETENTION_DAYS, periodically. Every instance runs the timer;
 * the purge takes a transaction-scoped advisory lock without waiting, so while one instance purges
 * the others skip their turn, and a crashed purger releases the lock with its connection.
 */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditRetention.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
  ) {}

  onApplicationBootstrap(): void {
    const run = (after: number) => {
      this.timer = setTimeout(() => {
        this.purge()
          .catch((error: Error) => this.logger.warn(`Audit log purge failed: ${error.message}`))
          .finally(() => run(PURGE_INTERVAL_MS));
      }, after).unref();
    };
    run(FIRST_PURGE_MS);
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  /** Deletes the expired rows; null when another instance holds the purge (nothing done here). */
  purge(): Promise<number | null> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = (await manager.query(
        'SELECT pg_try_advisory_xact_lock($1) AS "locked"',
        [PURGE_LOCK],
      )) as { locked: boolean }[];
      if (!locked) return null;
      const { affected } = await manager
        .createQueryBuilder()
        .delete()
        .from(AuditEntry)
        .where('"at" < now() - make_interval(days => :days)', { days: this.config.retentionDays })
        .execute();
      const deleted = affected ?? 0;
      if (deleted) this.logger.log(`Purged ${deleted} audit log rows past retention`);
      return deleted;
    });
  }
}
