// Every route, through a client generated from openapi.json alone (openapi-typescript types,
// openapi-fetch calls), with no casts and no `any`: if the document is not enough for a real
// client, this fails to type-check or to run. `npm run test:client` starts the app and runs it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { components, paths } from './openapi.js';

/** Where an object literal meets the generated body type exactly (openapi-fetch infers its own). */
const asRegisterBody = (body: components['schemas']['RegisterDto']) => body;

const usage = 'usage: node walk.js <base URL of a running Latchkey> <email of an admin>';
const baseUrl = process.argv[2];
const adminEmail = process.argv[3] ?? '';
if (!baseUrl || !adminEmail) throw new Error(usage);
const client = createClient<paths>({ baseUrl });

const PASSWORD = 'correct horse battery staple';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let steps = 0;
/** One step of the walk: its name in the output, and in the error when one of its checks fails. */
async function step(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  steps += 1;
  console.error(`ok ${steps} - ${name}`);
}

/** The status, and the headers every answer (or every /auth and /users answer) must carry. */
function expectAnswer(response: Response, status: number, { noStore = true } = {}): void {
  assert.equal(response.status, status, `status ${response.status}, expected ${status}`);
  assert.match(response.headers.get('x-request-id') ?? '', REQUEST_ID, 'X-Request-Id');
  if (noStore) assert.equal(response.headers.get('cache-control'), 'no-store', 'Cache-Control');
}

/** A problem+json answer with this `code`. */
function expectProblem(
  response: Response,
  problem: { status: number; code: string } | undefined,
  status: number,
  code: string,
): void {
  expectAnswer(response, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.deepEqual({ status: problem?.status, code: problem?.code }, { status, code });
}

async function loginAs(email: string): Promise<string> {
  const { data, response } = await client.POST('/auth/login', {
    body: { email, password: PASSWORD },
  });
  expectAnswer(response, 200);
  assert.ok(data, 'a login body');
  return data.token;
}

async function main(): Promise<void> {
  const email = `walk-${randomUUID()}@example.com`;
  let id = '';
  let token = '';

  await step('checkLiveness: 200 {status: "ok"}', async () => {
    const { data, response } = await client.GET('/health/live');
    expectAnswer(response, 200, { noStore: false });
    assert.equal(data?.status, 'ok');
  });

  await step('checkReadiness: 200, each dependency up', async () => {
    const { data, response } = await client.GET('/health/ready');
    expectAnswer(response, 200, { noStore: false });
    assert.ok(data, 'a readiness body');
    assert.equal(data.status, 'ok');
    assert.deepEqual([data.details.database.status, data.details.sessions.status], ['up', 'up']);
  });

  await step('register: 201 with the user, Location names it', async () => {
    const { data, response } = await client.POST('/auth/register', {
      body: { email, password: PASSWORD, name: 'Walker' },
    });
    expectAnswer(response, 201);
    // 202 pending_verification is the enumeration-safe mode's answer, which this walk does not use.
    assert.ok(data && 'id' in data, 'a user');
    assert.deepEqual(
      { email: data.email, name: data.name, role: data.role, emailVerified: data.emailVerified },
      { email, name: 'Walker', role: 'user', emailVerified: false },
    );
    assert.equal(response.headers.get('location'), `/users/${data.id}`);
    id = data.id;
  });

  await step('register: 409 email_taken for the same email in another case', async () => {
    const { error, response } = await client.POST('/auth/register', {
      body: { email: email.toUpperCase(), password: PASSWORD },
    });
    expectProblem(response, error, 409, 'email_taken');
  });

  await step('register: an unknown field is a type error and a 400', async () => {
    const base = { email: `other-${email}`, password: PASSWORD };
    // @ts-expect-error `role` is not a field of RegisterDto: the generated type refuses it.
    asRegisterBody({ ...base, role: 'admin' });
    // A value of a wider type gets past the type checker; the server refuses it.
    const wider = { ...base, role: 'admin' };
    const { error, response } = await client.POST('/auth/register', { body: wider });
    expectProblem(response, error, 400, 'validation_failed');
    assert.deepEqual(
      error?.errors?.map(({ field }) => field),
      ['role'],
    );
  });

  await step('login: 200 with a Bearer token that expires later', async () => {
    const { data, response } = await client.POST('/auth/login', {
      body: { email, password: PASSWORD },
    });
    expectAnswer(response, 200);
    assert.ok(data, 'a login body');
    assert.match(data.token, /^lk_[A-Za-z0-9_-]{43,}$/);
    assert.equal(data.tokenType, 'Bearer');
    assert.equal(data.user.id, id);
    assert.ok(Date.parse(data.expiresAt) > Date.now(), 'expiresAt in the future');
    token = data.token;
  });

  await step('login: 401 invalid_credentials for a wrong password', async () => {
    const { error, response } = await client.POST('/auth/login', {
      body: { email, password: `${PASSWORD}!` },
    });
    expectProblem(response, error, 401, 'invalid_credentials');
  });

  await step('getMe: 200 with the account', async () => {
    const { data, response } = await client.GET('/users/me', { headers: bearer(token) });
    expectAnswer(response, 200);
    assert.equal(data?.id, id);
  });

  await step('getMe: 401 unauthenticated without a token, with WWW-Authenticate', async () => {
    const { error, response } = await client.GET('/users/me');
    expectProblem(response, error, 401, 'unauthenticated');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="latchkey"');
  });

  await step('getUser: 200 for your own id, 403 for another', async () => {
    const own = await client.GET('/users/{id}', {
      params: { path: { id } },
      headers: bearer(token),
    });
    expectAnswer(own.response, 200);
    assert.equal(own.data?.email, email);
    const other = await client.GET('/users/{id}', {
      params: { path: { id: randomUUID() } },
      headers: bearer(token),
    });
    expectProblem(other.response, other.error, 403, 'forbidden');
  });

  await step('updateUser: 200 with the new name; null clears it', async () => {
    const renamed = await client.PATCH('/users/{id}', {
      params: { path: { id } },
      headers: bearer(token),
      body: { name: 'Ada Walker' },
    });
    expectAnswer(renamed.response, 200);
    assert.equal(renamed.data?.name, 'Ada Walker');
    const cleared = await client.PATCH('/users/{id}', {
      params: { path: { id } },
      headers: bearer(token),
      body: { name: null },
    });
    expectAnswer(cleared.response, 200);
    assert.equal(cleared.data?.name, null);
  });

  await step(
    'updateUser: 400 invalid_current_password for an email change without it',
    async () => {
      const { error, response } = await client.PATCH('/users/{id}', {
        params: { path: { id } },
        headers: bearer(token),
        body: { email: `new-${email}` },
      });
      expectProblem(response, error, 400, 'invalid_current_password');
    },
  );

  const second = await loginAs(email);

  await step('listSessions: both sessions, this one marked current', async () => {
    const { data, response } = await client.GET('/auth/sessions', { headers: bearer(token) });
    expectAnswer(response, 200);
    assert.ok(data, 'a list');
    assert.equal(data.length, 2);
    assert.deepEqual(data.map(({ current }) => current).sort(), [false, true]);
  });

  await step('endSession: 204 for the other session, then 404; its token is dead', async () => {
    const { data } = await client.GET('/auth/sessions', { headers: bearer(token) });
    const other = data?.find(({ current }) => !current);
    assert.ok(other, 'another session');
    const ended = await client.DELETE('/auth/sessions/{id}', {
      params: { path: { id: other.id } },
      headers: bearer(token),
    });
    expectAnswer(ended.response, 204);
    const again = await client.DELETE('/auth/sessions/{id}', {
      params: { path: { id: other.id } },
      headers: bearer(token),
    });
    expectProblem(again.response, again.error, 404, 'not_found');
    const dead = await client.GET('/users/me', { headers: bearer(second) });
    expectProblem(dead.response, dead.error, 401, 'invalid_token');
  });

  await step('logout: 204, then the token is refused', async () => {
    const { response } = await client.POST('/auth/logout', { headers: bearer(token) });
    expectAnswer(response, 204);
    const after = await client.GET('/users/me', { headers: bearer(token) });
    expectProblem(after.response, after.error, 401, 'invalid_token');
    assert.equal(
      after.response.headers.get('www-authenticate'),
      'Bearer realm="latchkey", error="invalid_token"',
    );
  });

  await step('logoutAll: 204, then every token of the account is refused', async () => {
    const first = await loginAs(email);
    const other = await loginAs(email);
    const { response } = await client.POST('/auth/logout-all', { headers: bearer(first) });
    expectAnswer(response, 204);
    for (const dead of [first, other]) {
      const after = await client.GET('/users/me', { headers: bearer(dead) });
      expectProblem(after.response, after.error, 401, 'invalid_token');
    }
  });

  await step('listUsers: 403 forbidden for a user who is not an admin', async () => {
    const { error, response } = await client.GET('/admin/users', {
      headers: bearer(await loginAs(email)),
    });
    expectProblem(response, error, 403, 'forbidden');
  });

  const admin = await loginAs(adminEmail);

  await step('listUsers: an admin finds the account by part of its email', async () => {
    const { data, response } = await client.GET('/admin/users', {
      params: { query: { q: email.slice(0, 20).toUpperCase(), pageSize: 10 } },
      headers: bearer(admin),
    });
    expectAnswer(response, 200);
    assert.ok(data, 'a page');
    assert.deepEqual(
      data.items.map((user) => [user.id, user.disabled]),
      [[id, false]],
    );
    assert.deepEqual([data.page, data.pageSize, data.total], [1, 10, 1]);
  });

  await step('administerUser: disabling ends the sessions and login answers 403', async () => {
    const before = await loginAs(email);
    const { data, response } = await client.PATCH('/admin/users/{id}', {
      params: { path: { id } },
      headers: bearer(admin),
      body: { disabled: true },
    });
    expectAnswer(response, 200);
    assert.equal(data?.disabled, true);
    const dead = await client.GET('/users/me', { headers: bearer(before) });
    expectProblem(dead.response, dead.error, 401, 'invalid_token');
    const refused = await client.POST('/auth/login', { body: { email, password: PASSWORD } });
    expectProblem(refused.response, refused.error, 403, 'account_disabled');
    const enabled = await client.PATCH('/admin/users/{id}', {
      params: { path: { id } },
      headers: bearer(admin),
      body: { disabled: false },
    });
    expectAnswer(enabled.response, 200);
  });

  await step('revokeUserSessions: 204, then the token is refused', async () => {
    const before = await loginAs(email);
    const { response } = await client.POST('/admin/users/{id}/revoke-sessions', {
      params: { path: { id } },
      headers: bearer(admin),
    });
    expectAnswer(response, 204);
    const dead = await client.GET('/users/me', { headers: bearer(before) });
    expectProblem(dead.response, dead.error, 401, 'invalid_token');
  });

  await step('readAuditLog: the account’s events, newest first, filtered', async () => {
    const { data, response } = await client.GET('/admin/audit-log', {
      params: { query: { targetId: id, action: 'account_disabled' } },
      headers: bearer(admin),
    });
    expectAnswer(response, 200);
    assert.ok(data, 'a page');
    assert.equal(data.total, 1);
    assert.deepEqual(
      data.items.map((entry) => [entry.action, entry.targetId]),
      [['account_disabled', id]],
    );
  });

  await step('deleteUser: 204, then the account cannot log in', async () => {
    const last = await loginAs(email);
    const { response } = await client.DELETE('/users/{id}', {
      params: { path: { id } },
      headers: bearer(last),
    });
    expectAnswer(response, 204);
    const { error, response: login } = await client.POST('/auth/login', {
      body: { email, password: PASSWORD },
    });
    expectProblem(login, error, 401, 'invalid_credentials');
  });
}

main().then(
  () => console.error(`walk: all ${steps} steps passed`),
  (error: unknown) => {
    console.error(
      `walk FAILED at step ${steps + 1}: ${error instanceof Error ? error.message : error}`,
    );
    process.exitCode = 1;
  },
);
