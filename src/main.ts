import 'reflect-metadata';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { type AppConfig, appConfig } from './config/app.config.js';
import { StartupError } from './config/startup-error.js';
import { EmbeddedDatabaseError, stopEmbeddedDatabases } from './database/embedded-postgres.js';

const logger = new Logger('Latchkey');
/** How long a failed start-up may take to stop what it had started before it exits anyway. */
const CLEAN_UP_TIMEOUT_MS = 30_000;

let app: NestExpressApplication | undefined;

/**
 * SIGTERM/SIGINT: readiness 503 and keep serving for the delay (ShutdownService), then stop
 * accepting, let in-flight requests finish, close pools and the embedded database (app.close runs
 * the shutdown hooks), then exit 0; past the delay plus the timeout, exit 1.
 */
function exitGracefullyOnSignals(app: INestApplication, config: AppConfig): void {
  const { shutdownDelaySeconds: delaySeconds, shutdownTimeoutSeconds: timeoutSeconds } = config;
  const shutdown = (signal: NodeJS.Signals) => {
    logger.log(`${signal} received: finishing in-flight requests, then stopping`);
    setTimeout(
      () => {
        logger.error(
          `Shutdown took longer than ${timeoutSeconds}s after the delay; exiting anyway`,
        );
        process.exit(1);
      },
      (delaySeconds + timeoutSeconds) * 1000,
    ).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error('Shutdown failed', error.stack);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function bootstrap(): Promise<void> {
  app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
    // Until pino takes over: a start-up failure is reported once, below, not also by Nest.
    logger: false,
  });
  const config = app.get<AppConfig>(appConfig.KEY);
  app.useLogger(app.get(PinoLogger));
  configureApp(app);
  exitGracefullyOnSignals(app, config);
  await app.listen(config.port);
  logger.log(`Listening on http://localhost:${config.port} (API docs at /docs)`);
}

/** The message for a start-up failure a person can fix; undefined for anything else (a bug). */
function fixable(error: NodeJS.ErrnoException & { port?: number }): string | undefined {
  if (error instanceof StartupError || error instanceof EmbeddedDatabaseError) return error.message;
  if (error.syscall !== 'listen') return undefined;
  if (error.code === 'EADDRINUSE') {
    return `Port ${error.port} is in use: stop what listens there, or set PORT to a free port`;
  }
  if (error.code === 'EACCES') {
    return `Port ${error.port} needs privileges this process lacks: set PORT to 1024 or above`;
  }
  return undefined;
}

/**
 * A failed start-up says why (a fixable error in its own words, anything else with its stack), then
 * stops what it had started: without app.close() the embedded PostgreSQL would outlive the process,
 * and when Nest failed before the app existed, its shutdown hooks cannot run, hence the fallback.
 */
bootstrap().catch(async (error: Error) => {
  console.error(fixable(error) ?? error);
  setTimeout(() => process.exit(1), CLEAN_UP_TIMEOUT_MS).unref();
  await app?.close().catch(() => undefined);
  await stopEmbeddedDatabases().catch(() => undefined);
  process.exit(1);
});
