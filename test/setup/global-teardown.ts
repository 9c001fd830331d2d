// Loaded as CommonJS, like global setup: see there.
import { onServer } from './test-database.ts';

export default async function globalTeardown(): Promise<void> {
  const run = globalThis.latchkeyE2e;
  if (!run) return;
  await onServer(run.serverUrl, `DROP DATABASE IF EXISTS ${run.database} WITH (FORCE)`);
  await run.embedded?.stop();
}
