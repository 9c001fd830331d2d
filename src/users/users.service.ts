import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ProblemException } from '../common/problem.exception.js';
import { cannotBeAnEmail, normalizeEmail } from './dto/user-fields.js';
import { User } from './user.entity.js';

export const userNotFound = () =>
  new ProblemException(404, 'not_found', 'There is no user with this id.');

/** Reads of accounts; every change goes through AccountsService. */
@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
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
