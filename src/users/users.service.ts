import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ProblemException } from '../common/problem.exception.js';
import {
  type EntityColumns,
  entityColumns,
  type PreparedStatement,
  queryPrepared,
} from '../database/prepared-statements.js';
import { cannotBeAnEmail, normalizeEmail } from './dto/user-fields.js';
import { User } from './user.entity.js';

export const userNotFound = () =>
  new ProblemException(404, 'not_found', 'There is no user with this id.');

/** Reads of accounts; every change goes through AccountsService. */
@Injectable()
export class UsersService {
  private readonly columns: EntityColumns<User>;
  /** Every authenticated request reads its user: prepared once per connection, not built per call. */
  private readonly byId: PreparedStatement;

  constructor(@InjectRepository(User) private readonly users: Repository<User>) {
    this.columns = entityColumns(users.manager.connection, User, 'u');
    this.byId = {
      name: 'latchkey_user_by_id',
      text: `SELECT ${this.columns.select} FROM users u WHERE u.id = $1`,
    };
  }

  async findById(id: string): Promise<User | null> {
    const [row] = await queryPrepared<Record<string, unknown>>(
      this.users.manager.connection,
      this.byId,
      [id],
    );
    return row ? this.columns.read(row) : null;
  }

  findByEmail(email: string): Promise<User | null> {
    // Login checks only sizes, so anything may come here; PostgreSQL would refuse a NUL outright.
    if (cannotBeAnEmail(email)) return Promise.resolve(null);
    return this.users.findOneBy({ email: normalizeEmail(email) });
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw userNotFound();
    return user;
  }
}
