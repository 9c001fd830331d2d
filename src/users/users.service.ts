import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ProblemException } from '../common/problem.exception.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import { normalizeEmail } from './dto/user-fields.js';
import { PasswordService } from './password.service.js';
import { User } from './user.entity.js';

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

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
  ) {}

  /** Inserts the user; a taken email surfaces as the unique index's violation (409 email_taken). */
  async create({ email, password, name }: NewUser): Promise<User> {
    const passwordHash = await this.passwords.hash(password);
    return this.users.save(
      this.users.create({ email: normalizeEmail(email), name: name ?? null, passwordHash }),
    );
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: normalizeEmail(email) });
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new ProblemException(404, 'not_found', 'There is no user with this id.');
    return user;
  }

  async update(id: string, changes: UpdateUserDto, actor: Actor): Promise<User> {
    const user = await this.getById(id);
    const isSelf = actor.user.id === user.id;
    const newEmail =
      changes.email !== undefined && changes.email !== user.email ? changes.email : undefined;
    const newPassword = changes.password;
    if (isSelf && (newEmail !== undefined || newPassword !== undefined)) {
      await this.confirmCurrentPassword(user, changes.currentPassword);
    }
    if (changes.name !== undefined) user.name = changes.name;
    if (newEmail !== undefined) {
      user.email = newEmail;
      user.emailVerified = false;
    }
    if (newPassword !== undefined) user.passwordHash = await this.passwords.hash(newPassword);
    const saved = await this.users.save(user);
    if (newPassword !== undefined) {
      // The session that made the change stays; every other one (a possible attacker's) ends.
      await this.sessions.endAll(user.id, { except: isSelf ? actor.session.id : undefined });
    }
    return saved;
  }

  async remove(id: string): Promise<void> {
    const { affected } = await this.users.delete({ id });
    if (!affected) throw new ProblemException(404, 'not_found', 'There is no user with this id.');
    await this.sessions.endAll(id);
  }

  /**
   * Stores a hash made with the current parameters, unless the password changed meanwhile
   * (the condition on the old hash keeps a concurrent password change from being undone).
   */
  async rehashPassword(user: User, password: string): Promise<void> {
    const passwordHash = await this.passwords.hash(password);
    await this.users.update({ id: user.id, passwordHash: user.passwordHash }, { passwordHash });
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
