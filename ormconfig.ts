import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { validateEnv } from './src/config/env.validation.js';
import { dataSourceOptions } from './src/database/data-source-options.js';

// The TypeORM CLI (npm run migration:generate) works against a server you name in DATABASE_URL.
if (existsSync('.env')) process.loadEnvFile('.env');
const { DATABASE_URL } = validateEnv(process.env);
if (!DATABASE_URL) {
  throw new Error('Set DATABASE_URL to the PostgreSQL server the TypeORM CLI should use.');
}

export default new DataSource(dataSourceOptions(DATABASE_URL));
