import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const MASTERS = 3;
/** How long each step of start-up may take before the harness gives up. */
const STEP_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;

export interface RedisClusterHandle {
  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3", as REDIS_CLUSTER_NODES takes it. */
  nodes: string;
  nodeList: { host: string; port: number }[];
  /** Kills the servers and removes their folders. */
  stop(): Promise<void>;
}

/** Why a real cluster cannot be started here (no redis-server or redis-cli), or undefined. */
export function redisClusterUnavailableReason(): string | undefined {
  for (const command of ['redis-server', 'redis-cli']) {
    if (spawnSync(command, ['--version']).error) return `${command} is not on PATH`;
  }
  return undefined;
}

/**
 * Starts a throwaway 3-master Redis Cluster of local `redis-server` processes, each with its own
 * free ports and temporary folder; resolves once every node reports the cluster as ok.
 */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const ports = await freePorts(2 * MASTERS);
  const nodeList = ports.slice(0, MASTERS).map((port) => ({ host: '127.0.0.1', port }));
  const addresses = nodeList.map(({ host, port }) => `${host}:${port}`);
  const dirs: string[] = [];
  const servers: NodeProcess[] = [];
  // Even if the test process ends without stop(), the servers must not outlive it.
  const killAll = () => servers.forEach((server) => server.kill('SIGKILL'));
  process.on('exit', killAll);

  const stop = async () => {
    process.off('exit', killAll);
    await Promise.all(servers.map(stopServer));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };

  try {
    for (const [index, { port }] of nodeList.entries()) {
      const dir = await mkdtemp(join(tmpdir(), 'latchkey-redis-cluster-'));
      dirs.push(dir);
      servers.push(startServer(port, ports[MASTERS + index], dir));
    }
    for (const [index, { port }] of nodeList.entries()) {
      await until(
        () => `redis-server on port ${port} answers (its output: ${servers[index].output()})`,
        async () => (await cli(port, 'PING')) === 'PONG',
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const { port } of nodeList) {
      await until(
        () => `node ${port} reports cluster_state:ok`,
        async () => (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: addresses.join(','), nodeList, stop };
}

/** A node's process, with the tail of what it printed. */
type NodeProcess = ChildProcess & { output(): string };

function startServer(port: number, clusterPort: number, dir: string): NodeProcess {
  const server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(clusterPort),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Kept for the error message if the node never answers (a port taken meanwhile, say).
  let output = '';
  const record = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  server.stdout?.on('data', record);
  server.stderr?.on('data', record);
  server.on('error', (error) => record(Buffer.from(error.message)));
  return Object.assign(server, { output: () => output });
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

/** One redis-cli command's reply; an empty string while the node does not answer. */
async function cli(port: number, ...command: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command]);
    return stdout.trim();
  } catch {
    return '';
  }
}

/** Polls `check` until it holds, for at most STEP_TIMEOUT_MS. */
async function until(what: () => string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`Redis Cluster start-up: timed out waiting until ${what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Distinct ports free right now: all held open at once, so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP port assigned');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
