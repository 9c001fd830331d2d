import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PASSWORD, uniqueEmail } from './support/factories.js';
import { Instance, prepareInstances } from './support/instance.js';
import { send, startLoad } from './support/load.js';
import { Nginx, nginxUnavailableReason } from './support/nginx.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const redisSkipReason = await redisUnavailableReason();
const nginxSkipReason = nginxUnavailableReason();
const ACCOUNTS = 6;

/** Waits (polling, with a bound for a failure) until `instance`'s readiness answers `status`. */
async function readiness(instance: Instance, status: number): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    const reply = await send(instance.url, 'GET', '/health/ready').catch(() => undefined);
    if (reply?.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`readiness of :${instance.port} never answered ${status}`);
}

/**
 * Two app processes behind a real nginx (see support/nginx.ts for what its config does, retries
 * off), restarted one after the other as an orchestrator would: SIGTERM, readiness 503, out of
 * the upstream, exit, start again on the same port, ready, back in. The client sees every answer.
 */
describe.each(['postgres', 'redis'])(
  'a rolling restart behind nginx, SESSION_STORE=%s',
  (store) => {
    const skip = nginxSkipReason ?? (store === 'redis' ? redisSkipReason : undefined);
    if (skip) console.warn(`Skipping the rolling restart on ${store}: ${skip}`);
    const env = {
      SESSION_STORE: store,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `latchkey-rolling-${randomUUID().slice(0, 8)}:`,
      // Long enough for the reload below to take effect; what an orchestrator would configure.
      SHUTDOWN_DELAY: '3s',
      SHUTDOWN_TIMEOUT: '20s',
      // Every login of the load keeps its session, so that all of them can be checked afterwards.
      SESSION_MAX_PER_USER: '1000',
      // Issue 12's switch for its rate limits; ignored where they do not exist.
      RATE_LIMITS: 'off',
    };
    const instances: Instance[] = [];
    /** What the instances logged, for the message of a failure. */
    const logs = (status: number) =>
      status < 500 ? '' : instances.map((instance) => instance.output).join('\n');
    let nginx: Nginx | undefined;
    let load: ReturnType<typeof startLoad> | undefined;

    beforeAll(async () => {
      if (skip) return;
      await prepareInstances();
      instances.push(...(await Promise.all([Instance.start(env), Instance.start(env)])));
      nginx = await Nginx.start(instances.map((instance) => instance.port));
    }, 60_000);
    afterAll(async () => {
      // Also when the test failed midway: its load must not outlive it.
      await load?.stop();
      await nginx?.stop();
      await Promise.all(instances.map((instance) => instance.stop()));
    });

    (skip ? it.skip : it)(
      skip
        ? `skipped: ${skip}`
        : 'loses no request and no session; tokens issued meanwhile work on both',
      async () => {
        const proxy = nginx as Nginx;
        const accounts = [];
        for (let i = 0; i < ACCOUNTS; i++) {
          const email = uniqueEmail('rolling');
          const registered = await send(proxy.url, 'POST', '/auth/register', {
            body: { email, password: PASSWORD },
          });
          expect({ status: registered.status, logs: logs(registered.status) }).toEqual({
            status: 201,
            logs: '',
          });
          const login = await send(proxy.url, 'POST', '/auth/login', {
            body: { email, password: PASSWORD },
          });
          expect({ status: login.status, body: login.body, logs: logs(login.status) }).toEqual({
            status: 200,
            body: expect.anything(),
            logs: '',
          });
          accounts.push({ email, password: PASSWORD, token: login.body.token as string });
        }
        const servedBy = new Map<string, number>();
        load = startLoad(proxy.url, {
          accounts,
          readers: 4,
          loggers: 2,
          onReply: (reply) => {
            const upstream = String(reply.headers['x-upstream']);
            servedBy.set(upstream, (servedBy.get(upstream) ?? 0) + 1);
          },
        });
        await load.progressed(20);
        const issuedBefore = load.report.tokens.length;

        for (const instance of instances) {
          const others = instances.filter((other) => other !== instance).map((other) => other.port);
          const exited = instance.stop();
          await readiness(instance, 503);
          await proxy.route(others);
          await expect(exited).resolves.toBe(0);
          await instance.start();
          await readiness(instance, 200);
          await proxy.route(instances.map((each) => each.port));
          await load.progressed(20);
        }
        const report = await load.stop();

        const failed = report.failures.length > 0;
        expect({
          failures: report.failures,
          nginx: failed ? await proxy.errorLog() : '',
          apps: failed ? logs(500) : '',
        }).toEqual({ failures: [], nginx: '', apps: '' });
        expect(Object.keys(report.statuses)).toEqual(['200']);
        // Both instances served through nginx, before and after their restart.
        for (const instance of instances) {
          expect(servedBy.get(`127.0.0.1:${instance.port}`)).toBeGreaterThan(0);
        }
        const issuedDuring = report.tokens.slice(issuedBefore);
        expect(issuedDuring.length).toBeGreaterThan(0);
        const tokens = [...accounts.map((account) => account.token), ...issuedDuring];
        const refused: string[] = [];
        for (let i = 0; i < tokens.length; i += 20) {
          const checks = tokens.slice(i, i + 20).flatMap((token) =>
            instances.map(async (instance) => {
              const reply = await send(instance.url, 'GET', '/users/me', { token });
              if (reply.status !== 200) refused.push(`:${instance.port} ${reply.status}`);
            }),
          );
          await Promise.all(checks);
        }
        expect(refused).toEqual([]);
      },
      120_000,
    );
  },
);
