import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { CliModule } from './cli/cli.module.js';
import { StartupError } from './config/startup-error.js';
import { EmbeddedDatabaseError, stopEmbeddedDatabases } from './database/embedded-postgres.js';

/**
 * `npm run cli -- <command>`: the operator's commands (see --help). Nest's own logging stays off,
 * so a failure is the one line its command prints; a start-up failure (a bad setting) is one line too.
 */
async function main(): Promise<void> {
  const app = await CommandFactory.runWithoutClosing(CliModule, {
    logger: false,
    // A failure to boot is thrown, to be told below, not ended silently by Nest.
    abortOnError: false,
    cliName: 'latchkey',
  });
  await app.close();
}

main()
  .catch(async (error: Error) => {
    const fixable = error instanceof StartupError || error instanceof EmbeddedDatabaseError;
    console.error(`error: ${fixable ? error.message : (error.stack ?? error.message)}`);
    await stopEmbeddedDatabases().catch(() => undefined);
    process.exitCode = 1;
  })
  // Whatever a library left scheduled, a command is over once it has answered.
  .finally(() => process.exit());
