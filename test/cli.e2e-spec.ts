import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createTestApp, ownDatabase, type OwnDatabase } from './support/app.js';
import { api, bearer, login, PASSWORD, register, uniqueEmail } from './support/factories.js';
import { freePort } from './support/instance.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built command line (global setup builds it), as an operator runs it: a process of its own. */
async function cli(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  const child = spawn(process.execPath, ['dist/src/cli.js', ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** A failure: a non-zero exit and exactly one line on stderr. */
const failedWith = (run: Run, message: string | RegExp) => {
  expect({
    code: run.code === 0 ? 0 : 'non-zero',
    lines: run.stderr.trimEnd().split('\n'),
  }).toEqual({
    code: 'non-zero',
    lines: [expect.stringMatching(message)],
  });
};

const COMMANDS = [
  'user:create',
  'user:promote',
  'user:demote',
  'user:disable',
  'user:enable',
  'sessions:revoke',
  'db:migrate',
];

describe('the command line (npm run cli)', () => {
  let database: OwnDatabase;
  let app: NestExpressApplication;
  let env: Record<string, string>;

  // A database of its own: the commands' subject includes "the last admin of all".
  beforeAll(async () => {
    database = await ownDatabase();
    env = { DATABASE_URL: database.url };
    app = await createTestApp({ env });
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const run = (args: string[], input?: string) => cli(args, env, input);

  it('db:migrate applies the pending migrations, then has nothing to apply', async () => {
    const fresh = await ownDatabase({ migrated: false });
    try {
      const first = await cli(['db:migrate'], { DATABASE_URL: fresh.url });
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(/^Applied Init\d+, .*Administration\d+\n$/);
      const second = await cli(['db:migrate'], { DATABASE_URL: fresh.url });
      expect(second).toMatchObject({ code: 0, stdout: 'Nothing to apply\n' });
    } finally {
      await fresh.drop();
    }
  }, 60_000);

  it('user:create --admin --password-stdin makes the first admin, audited with a null actor', async () => {
    const email = uniqueEmail('first-admin');
    const created = await run(
      [
        'user:create',
        '--email',
        email.toUpperCase(),
        '--name',
        'Root',
        '--admin',
        '--password-stdin',
      ],
      `${PASSWORD}\n`,
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(
      new RegExp(`^Created admin ${email} \\(id [0-9a-f-]{36}\\)\\n$`),
    );

    // The line break that ends the piped input is not part of the password.
    const token = await login(app, email, PASSWORD);
    const me = (await api(app).get('/users/me').set(bearer(token)).expect(200)).body;
    expect(me).toMatchObject({ email, name: 'Root', role: 'admin', emailVerified: true });
    const audit = await api(app)
      .get('/admin/audit-log')
      .query({ targetId: me.id })
      .set(bearer(token))
      .expect(200);
    expect(
      audit.body.items.map(({ action, actorId, ip, requestId }: Record<string, unknown>) => ({
        action,
        actorId,
        ip,
        requestId,
      })),
    ).toEqual([
      {
        action: 'login_succeeded',
        actorId: me.id,
        ip: expect.any(String),
        requestId: expect.any(String),
      },
      { action: 'role_changed', actorId: null, ip: null, requestId: null },
      { action: 'registered', actorId: null, ip: null, requestId: null },
    ]);
  }, 60_000);

  it('promotes, demotes, disables, enables and revokes sessions, each change audited with a null actor', async () => {
    const user = await register(app);
    const other = await register(app);
    await run(['user:promote', other.email]); // so that `user` is never the last admin
    const token = await login(app, user.email);

    expect(await run(['sessions:revoke', user.email])).toMatchObject({
      code: 0,
      stdout: `Every session of ${user.email} ended\n`,
    });
    await api(app).get('/users/me').set(bearer(token)).expect(401);

    expect(await run(['user:disable', user.email])).toMatchObject({ code: 0 });
    const refused = await api(app)
      .post('/auth/login')
      .send({ email: user.email, password: PASSWORD })
      .expect(403);
    expect(refused.body.code).toBe('account_disabled');
    expect(await run(['user:enable', user.email])).toMatchObject({ code: 0 });

    expect(await run(['user:promote', user.email.toUpperCase()])).toMatchObject({
      code: 0,
      stdout: `${user.email} is an admin\n`,
    });
    const adminToken = await login(app, user.email);
    await api(app).get('/admin/users').set(bearer(adminToken)).expect(200);
    expect(await run(['user:demote', user.email])).toMatchObject({ code: 0 });
    // A demotion ends the sessions it made powerless.
    await api(app).get('/users/me').set(bearer(adminToken)).expect(401);

    const otherToken = await login(app, other.email);
    const audit = await api(app)
      .get('/admin/audit-log')
      .query({ targetId: user.id })
      .set(bearer(otherToken))
      .expect(200);
    // The command line's rows: no request, no address, no actor.
    const byCommand = audit.body.items.filter(
      (each: { requestId: string | null }) => each.requestId === null,
    );
    expect(byCommand.map((each: { action: string }) => each.action).reverse()).toEqual([
      'sessions_revoked',
      'account_disabled',
      'account_enabled',
      'role_changed',
      'role_changed',
    ]);
    for (const each of byCommand) expect(each).toMatchObject({ actorId: null, ip: null });
  }, 120_000);

  it('prints one clear line and exits non-zero for a bad argument or an unknown user', async () => {
    const taken = await register(app);
    const nobody = uniqueEmail('nobody');
    const [short, noEmail, badEmail, duplicate, noTerminal, unknown, unknownCommand, extra] =
      await Promise.all([
        run(['user:create', '--email', uniqueEmail(), '--password-stdin'], 'short\n'),
        run(['user:create', '--password-stdin'], `${PASSWORD}\n`),
        run(['user:create', '--email', 'not an email', '--password-stdin'], `${PASSWORD}\n`),
        run(['user:create', '--email', taken.email, '--password-stdin'], `${PASSWORD}\n`),
        run(['user:create', '--email', uniqueEmail()]),
        run(['user:promote', nobody]),
        run(['user:frobnicate', nobody]),
        run(['user:disable', taken.email, 'extra']),
      ]);
    failedWith(short, /^error: Invalid password must be a string of 12 to 128 characters$/);
    failedWith(noEmail, /^error: required option '--email <email>' not specified$/);
    failedWith(badEmail, /^error: Invalid email must be an email address$/);
    failedWith(duplicate, /^error: An account with this email already exists\.$/);
    failedWith(
      noTerminal,
      /^error: No terminal to ask for the password: pipe it in with --password-stdin$/,
    );
    failedWith(unknown, new RegExp(`^error: No user has the email ${nobody}$`));
    failedWith(unknownCommand, /^error: unknown command 'user:frobnicate'$/);
    failedWith(extra, /^error: Unexpected argument: extra$/);
    // Nothing was made or changed by the failures.
    await login(app, taken.email);
  }, 120_000);

  it('refuses to demote or disable the last active admin', async () => {
    const alone = await ownDatabase();
    try {
      const email = uniqueEmail('only-admin');
      const local = (args: string[], input?: string) =>
        cli(args, { DATABASE_URL: alone.url }, input);
      await local(['user:create', '--email', email, '--admin', '--password-stdin'], PASSWORD);
      const [demote, disable] = await Promise.all([
        local(['user:demote', email]),
        local(['user:disable', email]),
      ]);
      failedWith(demote, /^error: This is the last active admin/);
      failedWith(disable, /^error: This is the last active admin/);
    } finally {
      await alone.drop();
    }
  }, 120_000);

  it('says in one line when the database cannot be reached', async () => {
    const port = await freePort();
    const down = await cli(['user:promote', uniqueEmail()], {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
      DEPENDENCY_TIMEOUT: '1s',
    });
    failedWith(down, /^error: The database is unavailable/);
  }, 60_000);

  it('has --help for each command', async () => {
    const helps = await Promise.all(COMMANDS.map((command) => run([command, '--help'])));
    helps.forEach((help, index) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`${COMMANDS[index]} [options]`);
    });
    const overview = await run(['--help']);
    expect(overview.code).toBe(0);
    for (const command of COMMANDS) expect(overview.stdout).toContain(command);
    expect(helps[0].stdout).toContain('--password-stdin');
  }, 120_000);
});
