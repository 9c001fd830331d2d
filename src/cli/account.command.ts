import { Injectable } from '@nestjs/common';
import { Command, CommandRunner } from 'nest-commander';
import { COMMAND_LINE } from '../audit/origin.js';
import { UniqueViolations } from '../common/unique-violations.js';
import { AccountsService, type AdminChange } from '../users/accounts.service.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { CommandError, reporting } from './command-errors.js';

/**
 * A command on one existing account, named by its email. Each change goes through
 * AccountsService, like the admin routes, and is audited with a null actor.
 */
@Injectable() // so the subclasses inherit its constructor's parameter types for injection
abstract class AccountCommand extends CommandRunner {
  constructor(
    protected readonly users: UsersService,
    protected readonly accounts: AccountsService,
    private readonly violations: UniqueViolations,
  ) {
    super();
  }

  protected abstract apply(user: User): Promise<string>;

  run([email, ...extra]: string[]): Promise<void> {
    return reporting(this.violations, async () => {
      if (extra.length) throw new CommandError(`Unexpected argument: ${extra[0]}`);
      const user = await this.users.findByEmail(email);
      if (!user) throw new CommandError(`No user has the email ${email}`);
      return this.apply(user);
    });
  }
}

/** A change of role or disabled, as PATCH /admin/users/{id} makes it (the last-admin rule too). */
abstract class AdminChangeCommand extends AccountCommand {
  protected abstract readonly change: AdminChange;
  protected abstract readonly done: string;

  protected async apply(user: User): Promise<string> {
    await this.accounts.administer(user.id, this.change, COMMAND_LINE);
    return `${user.email} ${this.done}`;
  }
}

const ONE_EMAIL = { arguments: '<email>', argsDescription: { email: 'the email of the account' } };

@Command({
  name: 'user:promote',
  description: 'Make an account an admin',
  ...ONE_EMAIL,
})
export class PromoteCommand extends AdminChangeCommand {
  protected readonly change = { role: 'admin' } as const;
  protected readonly done = 'is an admin';
}

@Command({
  name: 'user:demote',
  description: 'Make an admin a plain user (ends their sessions; never the last active admin)',
  ...ONE_EMAIL,
})
export class DemoteCommand extends AdminChangeCommand {
  protected readonly change = { role: 'user' } as const;
  protected readonly done = 'is a user (not an admin)';
}

@Command({
  name: 'user:disable',
  description: 'Disable an account: it cannot log in, and its sessions end at once',
  ...ONE_EMAIL,
})
export class DisableCommand extends AdminChangeCommand {
  protected readonly change = { disabled: true };
  protected readonly done = 'is disabled';
}

@Command({
  name: 'user:enable',
  description: 'Enable a disabled account again',
  ...ONE_EMAIL,
})
export class EnableCommand extends AdminChangeCommand {
  protected readonly change = { disabled: false };
  protected readonly done = 'is enabled';
}

@Command({
  name: 'sessions:revoke',
  description: 'End every session of an account, on every instance',
  ...ONE_EMAIL,
})
export class RevokeSessionsCommand extends AccountCommand {
  protected async apply(user: User): Promise<string> {
    await this.accounts.endAllSessions(user.id, COMMAND_LINE, { action: 'sessions_revoked' });
    return `Every session of ${user.email} ended`;
  }
}
