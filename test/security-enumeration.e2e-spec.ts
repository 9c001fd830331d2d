import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request, { type Response } from 'supertest';
import { createTestApp } from './support/app.js';
import { PASSWORD, register, uniqueEmail } from './support/factories.js';

/** Samples per side; taken alternately, so load on the machine falls on both alike. */
const SAMPLES = 15;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

/**
 * Whether two timing distributions are alike, by a relative, outlier-proof test (no absolute
 * threshold): neither side's median exceeds twice the other's upper quartile. A path that skips
 * the password hash is many times faster than one that runs it, which this tells apart (the power
 * check below shows it).
 */
const alike = (a: number[], b: number[]) =>
  quantile(a, 0.5) <= 2 * quantile(b, 0.75) && quantile(b, 0.5) <= 2 * quantile(a, 0.75);

async function timeAlternately(
  a: () => Promise<Response>,
  b: () => Promise<Response>,
): Promise<{ a: number[]; b: number[] }> {
  const times = { a: [] as number[], b: [] as number[] };
  const time = async (send: () => Promise<Response>) => {
    const started = process.hrtime.bigint();
    await send();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  // One of each first, unmeasured: the first request of a kind warms up code paths.
  await a();
  await b();
  for (let sample = 0; sample < SAMPLES; sample++) {
    times.a.push(await time(a));
    times.b.push(await time(b));
  }
  return times;
}

/** What a client can see of an answer but the parts that differ on every request anyway. */
const visible = (response: Response) => ({
  status: response.status,
  body: response.body,
  headers: Object.keys(response.headers)
    .filter((name) => !['date', 'x-request-id', 'etag', 'content-length'].includes(name))
    .sort()
    .map((name) => [name, response.headers[name]]),
});

describe('no account enumeration by answer or timing', () => {
  let app: NestExpressApplication;
  let known: { email: string; password: string };
  beforeAll(async () => {
    app = await createTestApp();
    known = await register(app);
  });
  afterAll(() => app.close());

  const login = (email: string, password: string) =>
    request(app.getHttpServer()).post('/auth/login').send({ email, password });
  const forgot = (email: string) =>
    request(app.getHttpServer()).post('/auth/forgot-password').send({ email });

  it('ASVS 6.3.8 API2:2023: login answers an unknown email and a wrong password alike', async () => {
    const unknown = await login(uniqueEmail('nobody'), 'wrong password!!');
    const wrong = await login(known.email, 'wrong password!!');
    expect(visible(unknown)).toEqual(visible(wrong));
    expect(unknown.status).toBe(401);
  });

  it('ASVS 6.3.8: login takes about as long for an unknown email as for a wrong password', async () => {
    const times = await timeAlternately(
      () => login(uniqueEmail('nobody'), 'wrong password!!'),
      () => login(known.email, 'wrong password!!'),
    );
    expect({ ...times, alike: alike(times.a, times.b) }).toMatchObject({ alike: true });
  });

  it('the timing test has power: it tells a login that hashes from a request that does not', async () => {
    const times = await timeAlternately(
      () => login(known.email, 'wrong password!!'),
      // Refused by validation before any hashing.
      () => login(known.email, 'x'.repeat(129)),
    );
    expect({ ...times, alike: alike(times.a, times.b) }).toMatchObject({ alike: false });
  });

  it('ASVS 6.3.8 API6:2023: forgot-password answers a known and an unknown email alike, in about the same time', async () => {
    expect(visible(await forgot(known.email))).toEqual(visible(await forgot(uniqueEmail())));
    const times = await timeAlternately(
      () => forgot(known.email),
      () => forgot(uniqueEmail('nobody')),
    );
    expect({ ...times, alike: alike(times.a, times.b) }).toMatchObject({ alike: true });
  });
});

describe('enumeration-safe registration', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({
      env: { REQUIRE_VERIFIED_EMAIL: 'true', REGISTRATION_MODE: 'enumeration-safe' },
    });
  });
  afterAll(() => app.close());

  const registerAs = (email: string) =>
    request(app.getHttpServer()).post('/auth/register').send({ email, password: PASSWORD });

  it('ASVS 6.3.8 API2:2023: register answers a taken and a new email alike, in about the same time', async () => {
    const taken = uniqueEmail('taken');
    expect((await registerAs(taken)).status).toBe(202);
    const again = await registerAs(taken);
    const fresh = await registerAs(uniqueEmail('fresh'));
    expect(visible(again)).toEqual(visible(fresh));
    expect(again.body).toEqual({ status: 'pending_verification' });
    // And the same in another case: the address is one account.
    expect(visible(await registerAs(` ${taken.toUpperCase()}`))).toEqual(visible(fresh));

    const times = await timeAlternately(
      () => registerAs(taken),
      () => registerAs(uniqueEmail('fresh')),
    );
    expect({ ...times, alike: alike(times.a, times.b) }).toMatchObject({ alike: true });
  });

  it('ASVS 6.3.8: login of an unverified account tells nothing before the password is right', async () => {
    const email = uniqueEmail('unverified');
    await registerAs(email);
    const wrong = await request(app.getHttpServer())
      .post('/auth/login')
      .send({ email, password: 'wrong password!!' });
    const unknown = await request(app.getHttpServer())
      .post('/auth/login')
      .send({ email: uniqueEmail('nobody'), password: 'wrong password!!' });
    expect(visible(wrong)).toEqual(visible(unknown));
  });
});
