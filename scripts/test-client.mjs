// `npm run test:client`: proves openapi.json is enough for a real client. Generates the types with
// openapi-typescript, type-checks test/client/walk.ts (strict, no casts, no any), then runs it,
// through openapi-fetch, against the built app on a fresh embedded database. Exits non-zero when
// any step fails.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
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
    // The walk's admin is made as an operator makes the first one: with the command line.
    const adminEmail = `walk-admin-${randomUUID()}@example.com`;
    execFileSync(
      process.execPath,
      ['dist/src/cli.js', 'user:create', '--email', adminEmail, '--admin', '--password-stdin'],
      {
        input: 'correct horse battery staple\n',
        env: { ...process.env, DATABASE_URL: app.databaseUrl() },
        stdio: ['pipe', 'inherit', 'inherit'],
      },
    );
    const walk = spawn(process.execPath, ['.data/test-client/walk.js', app.baseUrl, adminEmail], {
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
