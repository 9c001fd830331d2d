import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { envFilePaths } from './src/config/env-files.js';
import { validateEnv } from './src/config/env.validation.js';
import { dataSourceOptions } from './src/database/data-source-options.js';

// The TypeORM CLI (npm run migration:generate) reads the same files as the app, in the same order
// (loadEnvFile never overrides a variable already set), and works on the server in DATABASE_URL.
for (const file of envFilePaths().filter((path) => existsSync(path))) process.loadEnvFile(file);
const { DATABASE_URL } = validateEnv(process.env);
if (!DATABASE_URL) {
  throw new Error('Set DATABASE_URL to the PostgreSQL server the TypeORM CLI should use.');
}

export default new DataSource(dataSourceOptions(DATABASE_URL));
