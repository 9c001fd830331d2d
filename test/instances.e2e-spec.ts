import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Instance, prepareInstances } from './support/instance.js';
import { PASSWORD, uniqueEmail } from './support/factories.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const redisSkipReason = await redisUnavailableReason();
const storeEnv = (store: string) => ({ SESSION_STORE: store, REDIS_URL: TEST_REDIS_URL });

/** Registers on `instance` and logs in, returning the token. */
async function signIn(instance: Instance): Promise<string> {
  const email = uniqueEmail('instance');
  expect(
    (await instance.request('POST', '/auth/register', { body: { email, password: PASSWORD } }))
      .status,
  ).toBe(201);
  const login = await instance.request('POST', '/auth/login', {
    body: { email, password: PASSWORD },
  });
  expect(login.status).toBe(200);
  return login.body.token;
}

describe('app processes', () => {
  const running: Instance[] = [];
  const start = async (env: Record<string, string>, port?: number) => {
    const instance = await Instance.start(env, port);
    running.push(instance);
    return instance;
  };

  beforeAll(prepareInstances);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((instance) => instance.stop()));
  });

  describe.each(['postgres', 'redis'])('with SESSION_STORE=%s', (store) => {
    const skip = store === 'redis' ? redisSkipReason : undefined;
    if (skip) console.warn(`Skipping the Redis process tests: ${skip}`);

    (skip ? describe.skip : describe)(skip ? `skipped: ${skip}` : 'shared sessions', () => {
      it('keeps sessions across a restart of the process', async () => {
        const first = await start(storeEnv(store));
        const token = await signIn(first);
        expect(await first.stop()).toBe(0);
        const restarted = await start(storeEnv(store), first.port);
        expect((await restarted.request('GET', '/users/me', { token })).status).toBe(200);
      }, 60_000);

      it('shares sessions between two instances: log in on A, use and log out on B, refused on A at once', async () => {
        const [a, b] = await Promise.all([start(storeEnv(store)), start(storeEnv(store))]);
        const token = await signIn(a);
        expect((await b.request('GET', '/users/me', { token })).status).toBe(200);
        expect((await b.request('POST', '/auth/logout', { token })).status).toBe(204);
        const refused = await a.request('GET', '/users/me', { token });
        expect(refused.status).toBe(401);
        expect(refused.body.code).toBe('invalid_token');
      }, 60_000);
    });
  });

  it('with SESSION_STORE=memory, loses sessions on restart (as README says)', async () => {
    const first = await start(storeEnv('memory'));
    const token = await signIn(first);
    expect(await first.stop()).toBe(0);
    const restarted = await start(storeEnv('memory'), first.port);
    expect((await restarted.request('GET', '/users/me', { token })).status).toBe(401);
  }, 60_000);
});
