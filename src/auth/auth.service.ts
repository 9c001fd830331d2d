import { Injectable } from '@nestjs/common';
import { ProblemException } from '../common/problem.exception.js';
import { type ClientInfo, SessionsService } from '../sessions/sessions.service.js';
import { UserDto } from '../users/dto/user.dto.js';
import { PasswordService } from '../users/password.service.js';
import type { User } from '../users/user.entity.js';
import { type NewUser, UsersService } from '../users/users.service.js';
import type { LoginDto } from './dto/login.dto.js';
import type { LoginResponseDto } from './dto/login-response.dto.js';

const invalidCredentials = () =>
  new ProblemException(401, 'invalid_credentials', 'The email or password is wrong.');

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
  ) {}

  register(newUser: NewUser): Promise<User> {
    return this.users.create(newUser);
  }

  /** One answer, in about one time, for an unknown email and a wrong password. */
  async login({ email, password }: LoginDto, client: ClientInfo): Promise<LoginResponseDto> {
    const user = await this.users.findByEmail(email);
    if (!user) {
      await this.passwords.verifyDummy(password);
      throw invalidCredentials();
    }
    if (!(await this.passwords.verify(user.passwordHash, password))) throw invalidCredentials();
    if (this.passwords.needsRehash(user.passwordHash))
      await this.users.rehashPassword(user, password);
    const { token, session } = await this.sessions.start(user.id, client);
    return {
      token,
      tokenType: 'Bearer',
      expiresAt: session.expiresAt.toISOString(),
      user: UserDto.from(user),
    };
  }
}
