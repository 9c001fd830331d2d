// `npm run openapi:check` (CI): openapi.json must be what the app generates now, and valid OpenAPI 3.
import SwaggerParser from '@apidevtools/swagger-parser';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folder = mkdtempSync(join(tmpdir(), 'latchkey-openapi-'));
try {
  const fresh = join(folder, 'openapi.json');
  execFileSync(process.execPath, ['dist/src/openapi.js', fresh], { stdio: 'inherit' });
  if (readFileSync(fresh, 'utf8') !== readFileSync('openapi.json', 'utf8')) {
    console.error('openapi.json is out of date: run `npm run openapi` and commit the result.');
    process.exit(1);
  }
  await SwaggerParser.validate('openapi.json');
  console.log('openapi.json is current and valid OpenAPI 3.');
} catch (error) {
  console.error(`openapi.json is not valid OpenAPI 3: ${error.message}`);
  process.exit(1);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
