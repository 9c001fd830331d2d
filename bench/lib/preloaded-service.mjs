// The service (production build, memory store) started as main.ts starts it, with BENCH_SESSIONS
// filler sessions put into its store before it listens, so the auth check runs among that many live
// sessions. Prints the memory the filler took, measured after full collections (needs --expose-gc):
// the V8 heap and the typed arrays' buffers, which live outside it.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from '../../dist/src/app.module.js';
import { configureApp } from '../../dist/src/app.setup.js';
import { appConfig } from '../../dist/src/config/app.config.js';
import { SessionStore } from '../../dist/src/sessions/session-store.js';

const count = Number(process.env.BENCH_SESSIONS);
const HOUR = 3600_000;

const app = await NestFactory.create(AppModule.forRoot(), { bodyParser: false, bufferLogs: true });
app.useLogger(app.get(PinoLogger));
configureApp(app);
const store = app.get(SessionStore);

const heap = () => {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};
const before = heap();
const now = Date.now();
for (let i = 0; i < count; i++) {
  // One session per user, with the values a login would store (fresh strings, not shared ones).
  await store.create({
    id: randomUUID(),
    userId: randomUUID(),
    tokenDigest: randomBytes(32).toString('hex'),
    credentialVersion: 0,
    createdAt: new Date(now),
    lastUsedAt: new Date(now),
    expiresAt: new Date(now + 24 * HOUR),
    absoluteExpiresAt: new Date(now + 14 * 24 * HOUR),
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    userAgent: `bench-client/${i % 1000}`,
  });
}
const after = heap();
console.log(`BENCH_HEAP ${JSON.stringify({ sessions: count, bytes: after - before })}`);
await app.listen(app.get(appConfig.KEY).port);
console.log('ready');
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
