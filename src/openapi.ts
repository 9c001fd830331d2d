import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { writeFile } from 'node:fs/promises';
import { AppModule } from './app.module.js';
import { openApiDocument } from './app.setup.js';

/**
 * `npm run openapi`: writes openapi.json from the app's own decorators. Preview mode builds the
 * module graph without instantiating providers, so no server, database or Redis is needed.
 */
async function writeOpenApi(path = process.argv[2] ?? 'openapi.json'): Promise<void> {
  const app = await NestFactory.create(AppModule.forRoot(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  await writeFile(path, `${JSON.stringify(openApiDocument(app), null, 2)}\n`);
  await app.close();
  console.error(`Wrote ${path}`);
}

writeOpenApi().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
