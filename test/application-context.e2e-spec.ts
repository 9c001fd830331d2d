import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { COMMAND_LINE } from '../src/audit/origin.js';
import { UniqueViolations } from '../src/common/unique-violations.js';
import { AccountsService } from '../src/users/accounts.service.js';
import { UsersService } from '../src/users/users.service.js';
import { e2eDatabaseUrl, migrateOnce } from './support/app.js';
import { PASSWORD, uniqueEmail } from './support/factories.js';

/** Sockets listening for connections in this process (what an HTTP server would add). */
const listeningServers = () =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'TCPServerWrap').length;

/**
 * The CLI and the benchmarks use the app's modules without HTTP: an application context must
 * boot, run the module hooks and do real work on the database, with no server and no route.
 */
describe('the application context (no HTTP)', () => {
  let context: INestApplicationContext;
  let serversBefore: number;

  beforeAll(async () => {
    await migrateOnce();
    serversBefore = listeningServers();
    context = await NestFactory.createApplicationContext(
      AppModule.forRoot({ DATABASE_URL: e2eDatabaseUrl(), DB_MIGRATIONS_RUN: 'false' }),
      { logger: false },
    );
  });
  afterAll(() => context?.close());

  it('registers a user through AccountsService and reads it back through UsersService', async () => {
    const email = uniqueEmail('context');
    const registered = await context
      .get(AccountsService)
      .register({ email: email.toUpperCase(), password: PASSWORD, name: 'Ada' }, COMMAND_LINE);

    const read = await context.get(UsersService).findById(registered.id);
    expect(read).toMatchObject({ id: registered.id, email, name: 'Ada', credentialVersion: 0 });
    expect(read?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('ran the module hooks: the users module registered its unique constraint', async () => {
    expect(context.get(UniqueViolations).problemFor('UQ_users_email')).toMatchObject({
      status: 409,
      code: 'email_taken',
    });
    const accounts = context.get(AccountsService);
    const email = uniqueEmail('taken');
    await accounts.register({ email, password: PASSWORD }, COMMAND_LINE);
    const again = accounts.register({ email, password: PASSWORD }, COMMAND_LINE);
    await expect(again).rejects.toBeInstanceOf(QueryFailedError);
    await expect(again).rejects.toMatchObject({ driverError: { constraint: 'UQ_users_email' } });
  });

  it('has no HTTP adapter and listens on no socket', () => {
    expect(context).not.toHaveProperty('getHttpServer');
    expect(context.get(HttpAdapterHost).httpAdapter).toBeFalsy();
    expect(listeningServers()).toBe(serversBefore);
  });
});
