import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { type AuditAction, type AuditDetails, AuditEntry } from './audit-entry.entity.js';
import type { Origin } from './origin.js';

/** The size of the `ip` column; a longer value (a forged X-Forwarded-For, say) is cut. */
const IP_MAX_LENGTH = 64;

export interface AuditEvent {
  action: AuditAction;
  /** The account the event is about, or null (a login with an unknown email). */
  targetId: string | null;
  /** Who acted, when not the request's user: the account itself after registering, say. */
  actorId?: string | null;
  details?: AuditDetails;
}

export interface AuditQuery {
  page: number;
  pageSize: number;
  actorId?: string;
  targetId?: string;
  action?: AuditAction;
}

/**
 * Appends to the audit log. `record` writes in the caller's transaction, so a row exists exactly
 * when the change it records committed (a failed change leaves none). `recordAlone` is its own
 * insert, for events that are no database change: a login (its session may live in Redis), a
 * failed login, a logout. Nothing here updates a row; the table refuses it anyway.
 */
@Injectable()
export class AuditLog {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(manager: EntityManager, origin: Origin, event: AuditEvent): Promise<void> {
    await manager.insert(AuditEntry, {
      actorId: event.actorId === undefined ? origin.actorId : event.actorId,
      action: event.action,
      targetId: event.targetId,
      ip: origin.ip?.slice(0, IP_MAX_LENGTH) ?? null,
      requestId: origin.requestId,
      details: event.details ?? null,
    });
  }

  recordAlone(origin: Origin, event: AuditEvent): Promise<void> {
    return this.record(this.dataSource.manager, origin, event);
  }

  /** Newest first; ties (one transaction's rows share no time, but a clock may) broken by id. */
  async list(query: AuditQuery): Promise<{ items: AuditEntry[]; total: number }> {
    const where = {
      ...(query.actorId !== undefined && { actorId: query.actorId }),
      ...(query.targetId !== undefined && { targetId: query.targetId }),
      ...(query.action !== undefined && { action: query.action }),
    };
    const [items, total] = await this.dataSource.getRepository(AuditEntry).findAndCount({
      where,
      order: { at: 'DESC', id: 'DESC' },
      skip: (query.page - 1) * query.pageSize,
      take: query.pageSize,
    });
    return { items, total };
  }
}
