import 'reflect-metadata';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { type AppConfig, appConfig } from './config/app.config.js';

const logger = new Logger('Latchkey');

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close pools and the embedded
 * database (app.close runs the shutdown hooks), then exit 0; past the timeout, exit 1.
 */
function exitGracefullyOnSignals(app: INestApplication, timeoutSeconds: number): void {
  const shutdown = (signal: NodeJS.Signals) => {
    logger.log(`${signal} received: finishing in-flight requests, then stopping`);
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${timeoutSeconds}s; exiting anyway`);
      process.exit(1);
    }, timeoutSeconds * 1000).unref();
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
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
    // Until pino takes over: a start-up failure is reported once, below, not also by Nest.
    logger: false,
  });
  const config = app.get<AppConfig>(appConfig.KEY);
  app.useLogger(app.get(PinoLogger));
  configureApp(app);
  exitGracefullyOnSignals(app, config.shutdownTimeoutSeconds);
  await app.listen(config.port);
  logger.log(`Listening on http://localhost:${config.port} (API docs at /docs)`);
}

/** Errors a person can fix get their message alone; anything else, the whole stack. */
const isExpected = (error: Error & { code?: string }) =>
  error.message.startsWith('Invalid configuration') || error.code === 'EADDRINUSE';

bootstrap().catch((error: Error) => {
  console.error(isExpected(error) ? error.message : error);
  process.exit(1);
});
