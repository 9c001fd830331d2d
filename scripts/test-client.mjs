// `npm run test:client`: proves openapi.json is enough for a real client. Generates the types with
// openapi-typescript, type-checks test/client/walk.ts (strict, no casts, no any), then runs it,
// through openapi-fetch, against the built app on a fresh embedded database. Exits non-zero when
// any step fails.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT, startBuiltApp } from './built-app.mjs';

const say = (message) => console.error(`[test:client] ${message}`);

process.chdir(ROOT);
try {
  execFileSync(process.execPath, ['scripts/openapi-types.mjs'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/client'], {
    stdio: 'inherit',
  });
} catch {
  say('the types could not be generated, or the walk does not type-check');
  process.exit(1);
}

const app = await startBuiltApp({ say });
let failed = true;
try {
  if (app.failure) {
    say(`the app could not start: ${app.failure}. Its output:\n${app.output() || '(none)'}`);
  } else {
    const walk = spawn(process.execPath, ['.data/test-client/walk.js', app.baseUrl], {
      stdio: 'inherit',
    });
    const [code, signal] = await once(walk, 'exit');
    failed = code !== 0;
    if (failed) say(`the walk failed (${code ?? signal}); the app's output:\n${app.output()}`);
  }
} finally {
  await app.stop();
}
say(failed ? 'FAILED' : 'passed');
process.exitCode = failed ? 1 : 0;
