import { ModuleRef } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { useContainer, validate } from 'class-validator';
import {
  Command,
  CommandRunner,
  InquirerService,
  Option,
  Question,
  QuestionSet,
} from 'nest-commander';
import { text } from 'node:stream/consumers';
import { COMMAND_LINE } from '../audit/origin.js';
import { RegisterDto } from '../auth/dto/register.dto.js';
import { UniqueViolations } from '../common/unique-violations.js';
import { AccountsService } from '../users/accounts.service.js';
import { CommandError, reporting } from './command-errors.js';

interface CreateUserOptions {
  email?: string;
  name?: string;
  admin?: boolean;
  passwordStdin?: boolean;
}

/** The password prompt: asked twice, never echoed. */
@QuestionSet({ name: 'new-password' })
export class NewPasswordQuestions {
  @Question({ type: 'password', name: 'password', message: 'Password:', mask: '*' })
  parsePassword(value: string) {
    return value;
  }

  @Question({ type: 'password', name: 'repeated', message: 'Repeat it:', mask: '*' })
  parseRepeated(value: string) {
    return value;
  }
}

@Command({
  name: 'user:create',
  description:
    'Create an account (the first admin, say). The password is asked for, or read from standard ' +
    'input with --password-stdin; the operator vouches for the email, so it counts as verified.',
})
export class CreateUserCommand extends CommandRunner {
  constructor(
    private readonly accounts: AccountsService,
    private readonly inquirer: InquirerService,
    private readonly moduleRef: ModuleRef,
    private readonly violations: UniqueViolations,
  ) {
    super();
  }

  @Option({ flags: '--email <email>', description: 'the email of the account', required: true })
  parseEmail(value: string) {
    return value;
  }

  @Option({ flags: '--name <name>', description: 'the name of the account' })
  parseName(value: string) {
    return value;
  }

  @Option({ flags: '--admin', description: 'make the account an admin' })
  parseAdmin() {
    return true;
  }

  @Option({
    flags: '--password-stdin',
    description: 'read the password from standard input (one line) instead of asking',
  })
  parsePasswordStdin() {
    return true;
  }

  run(extra: string[], options: CreateUserOptions): Promise<void> {
    return reporting(this.violations, async () => {
      if (extra.length) throw new CommandError(`Unexpected argument: ${extra[0]}`);
      const password = options.passwordStdin ? await passwordFromStdin() : await this.ask();
      const account = await this.validated({
        email: options.email,
        password,
        ...(options.name !== undefined && { name: options.name }),
      });
      const user = await this.accounts.register(account, COMMAND_LINE, {
        role: options.admin ? 'admin' : 'user',
        emailVerified: true,
      });
      return `Created ${options.admin ? 'admin' : 'user'} ${user.email} (id ${user.id})`;
    });
  }

  private async ask(): Promise<string> {
    if (!process.stdin.isTTY)
      throw new CommandError(
        'No terminal to ask for the password: pipe it in with --password-stdin',
      );
    const { password, repeated } = await this.inquirer.ask<{ password: string; repeated: string }>(
      'new-password',
      undefined,
    );
    if (password !== repeated) throw new CommandError('The two passwords differ');
    return password;
  }

  /** The rules of POST /auth/register, the configured password policy included. */
  private async validated(input: Record<string, unknown>): Promise<RegisterDto> {
    // The policy's minimum length comes from configuration, so class-validator asks Nest for it.
    useContainer(
      { get: (type) => this.moduleRef.get(type, { strict: false }) },
      { fallbackOnErrors: true },
    );
    const dto = plainToInstance(RegisterDto, input);
    const errors = await validate(dto, { stopAtFirstError: true });
    if (errors.length) {
      const reasons = errors.map(
        (error) => `${error.property} ${Object.values(error.constraints ?? {}).join(', ')}`,
      );
      throw new CommandError(`Invalid ${reasons.join('; ')}`);
    }
    return dto;
  }
}

/** Standard input up to its end, less the line break that `echo` or a file leaves at the end. */
async function passwordFromStdin(): Promise<string> {
  const input = await text(process.stdin);
  return input.replace(/\r?\n$/, '');
}
