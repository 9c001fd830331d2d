import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module.js';

/** `npm run db-up`: applies pending migrations to the configured (or embedded) database, then exits. */
async function migrate(): Promise<void> {
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ DB_MIGRATIONS_RUN: 'false' }),
    {
      logger: ['error', 'warn', 'log'],
    },
  );
  try {
    const applied = await app.get(DataSource).runMigrations({ transaction: 'each' });
    const names = applied.map((migration) => migration.name).join(', ');
    new Logger('Migrations').log(applied.length ? `Applied ${names}` : 'Nothing to apply');
  } finally {
    await app.close();
  }
}

migrate().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
