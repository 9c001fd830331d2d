// `npm start` runs this first: builds only when dist is missing or older than a source file.
import { execSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const OUTPUT = 'dist/src/main.js';
const SOURCES = [
  'src',
  'ormconfig.ts',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

const newestIn = (path) => {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestIn(join(path, entry))));
};

let builtAt = 0;
try {
  builtAt = statSync(OUTPUT).mtimeMs;
} catch {
  // not built yet
}
if (builtAt < Math.max(...SOURCES.map(newestIn))) {
  execSync('npx nest build', { stdio: 'inherit' });
}
