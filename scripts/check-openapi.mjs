// `npm run openapi:check` (CI): openapi.json must be what the app generates now, and valid OpenAPI 3;
// test/client/openapi.d.ts must be the types generated from it.
import SwaggerParser from '@apidevtools/swagger-parser';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTypes, TYPES } from './openapi-types.mjs';

/** What is wrong, or null when everything is current and valid. */
async function problem(folder) {
  const fresh = join(folder, 'openapi.json');
  execFileSync(process.execPath, ['dist/src/openapi.js', fresh], { stdio: 'inherit' });
  if (readFileSync(fresh, 'utf8') !== readFileSync('openapi.json', 'utf8')) {
    return 'openapi.json is out of date: run `npm run openapi` and commit the result.';
  }
  try {
    await SwaggerParser.validate('openapi.json');
  } catch (error) {
    return `openapi.json is not valid OpenAPI 3: ${error.message}`;
  }
  if (readFileSync(TYPES, 'utf8') !== (await generateTypes())) {
    return 'test/client/openapi.d.ts is out of date: run `npm run openapi:types` and commit the result.';
  }
  return null;
}

const folder = mkdtempSync(join(tmpdir(), 'latchkey-openapi-'));
try {
  const wrong = await problem(folder);
  if (wrong) console.error(wrong);
  else console.log('openapi.json is current and valid OpenAPI 3; so are its client types.');
  process.exitCode = wrong ? 1 : 0;
} catch (error) {
  console.error(`openapi:check could not run: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(folder, { recursive: true, force: true });
}
