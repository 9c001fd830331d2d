import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { User } from '../users/user.entity.js';

/** A LIKE pattern that matches `text` literally anywhere: its `%`, `_` and `\` are escaped. */
export const containing = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

/** Admins' reads of accounts; their changes go through AccountsService. */
@Injectable()
export class AdminService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /**
   * Oldest first, ties broken by id: a stable order in which new accounts land on the last page,
   * so paging does not shift under the reader. `q` is a bound parameter, never SQL.
   */
  async listUsers(query: { page: number; pageSize: number; q?: string }) {
    const builder = this.users
      .createQueryBuilder('user')
      .orderBy('user.createdAt', 'ASC')
      .addOrderBy('user.id', 'ASC')
      .skip((query.page - 1) * query.pageSize)
      .take(query.pageSize);
    if (query.q)
      builder.where(
        `(user.email ILIKE :pattern ESCAPE '\\' OR user.name ILIKE :pattern ESCAPE '\\')`,
        {
          pattern: containing(query.q.normalize('NFC')),
        },
      );
    const [items, total] = await builder.getManyAndCount();
    return { items, total };
  }
}
