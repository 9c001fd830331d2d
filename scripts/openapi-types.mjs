// `npm run openapi:types`: writes test/client/openapi.d.ts, the TypeScript types that
// openapi-typescript generates from openapi.json, for the generated-client walk (`npm run test:client`).
// `--check` only compares, and fails when the committed file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';

const ROOT = resolve(import.meta.dirname, '..');
export const TYPES = resolve(ROOT, 'test/client/openapi.d.ts');

/** The types of openapi.json, formatted as the repository's Prettier settings say. */
export async function generateTypes() {
  const ast = await openapiTS(pathToFileURL(resolve(ROOT, 'openapi.json')), { silent: true });
  const source = `${COMMENT_HEADER}${astToString(ast)}`;
  return format(source, { ...(await resolveConfig(TYPES)), filepath: TYPES });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const types = await generateTypes();
  const where = relative(process.cwd(), TYPES);
  if (!process.argv.includes('--check')) {
    writeFileSync(TYPES, types);
    console.error(`Wrote ${where}`);
  } else if (readFileSync(TYPES, 'utf8') !== types) {
    console.error(`${where} is out of date: run \`npm run openapi:types\` and commit the result.`);
    process.exit(1);
  }
}
