import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { loggerLevels } from './config/logger-levels.js';
import type { Env } from './config/env.validation.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  const config = app.get<ConfigService<Env, true>>(ConfigService);
  app.useLogger(loggerLevels(config.get('LOG_LEVEL', { infer: true })));
  configureApp(app);
  app.enableShutdownHooks();
  const port = config.get('PORT', { infer: true });
  await app.listen(port);
  new Logger('Latchkey').log(`Listening on http://localhost:${port} (API docs at /docs)`);
}

bootstrap().catch((error: Error) => {
  console.error(error.message.startsWith('Invalid configuration') ? error.message : error);
  process.exit(1);
});
