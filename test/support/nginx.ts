import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './instance.js';
import { send } from './load.js';

const NGINX = process.env.NGINX_BIN || '/usr/sbin/nginx';

/** Why the nginx tests cannot run here (no nginx binary), or undefined. */
export function nginxUnavailableReason(): string | undefined {
  const probe = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return probe.error ? `no nginx at ${NGINX} (${probe.error.message})` : undefined;
}

/**
 * A real nginx of the test's own: config, temp folders, logs and pid file in a fresh folder, on a
 * free port, balancing round-robin over the app ports it is given. What the config does:
 * - `proxy_next_upstream off`: nginx never retries a request on another instance, so an instance
 *   that refused or reset a connection shows up at the client as a 502, not hidden by a retry.
 * - No upstream keep-alive (nginx's default, HTTP/1.0 to the app) and `keepalive_timeout 0` towards
 *   clients: every request has its own connections, so no pooled connection can cause or mask one.
 * - `X-Generation` tells which config answered (route() waits for its own), `X-Upstream` which app.
 * nginx has no active health checks in its free version, so the test plays the orchestrator: it
 * takes an instance out of the upstream (route(), a graceful reload) once its readiness says 503.
 */
export class Nginx {
  private generation = 0;
  private process?: ChildProcess;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstreams: number[]): Promise<Nginx> {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-nginx-'));
    // The workers run as an unprivileged user when the master is root: they must reach the folder.
    await chmod(dir, 0o755);
    const nginx = new Nginx(dir, await freePort());
    await nginx.writeConfig(upstreams);
    const child = spawn(
      NGINX,
      ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    nginx.process = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
    try {
      await nginx.answering();
    } catch (error) {
      await nginx.stop();
      throw new Error(`nginx did not start: ${(error as Error).message}\n${stderr}`);
    }
    return nginx;
  }

  /** Routes to `upstreams` only: rewrites the config, reloads gracefully, waits until it answers. */
  async route(upstreams: number[]): Promise<void> {
    await this.writeConfig(upstreams);
    this.process?.kill('SIGHUP');
    await this.answering();
  }

  /** Fast shutdown of the master and its workers; removes the folder. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  async errorLog(): Promise<string> {
    return readFile(join(this.dir, 'error.log'), 'utf8').catch(() => '');
  }

  /** Waits until a response comes from the current config's generation. */
  private async answering(): Promise<void> {
    const wanted = String(this.generation);
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await delay(50)) {
      if (this.process?.exitCode !== null)
        throw new Error(`nginx exited (${this.process?.exitCode})`);
      const reply = await send(this.url, 'GET', '/health/live').catch(() => undefined);
      if (reply?.headers['x-generation'] === wanted) return;
    }
    throw new Error(`nginx did not answer with config ${wanted}`);
  }

  private async writeConfig(upstreams: number[]): Promise<void> {
    this.generation += 1;
    const temp = (name: string) => `${name}_temp_path ${join(this.dir, name)};`;
    const config = `
daemon off;
master_process on;
worker_processes 1;
pid ${join(this.dir, 'nginx.pid')};
error_log ${join(this.dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  keepalive_timeout 0;
  upstream latchkey {
    ${upstreams.map((port) => `server 127.0.0.1:${port};`).join('\n    ')}
  }
  server {
    listen 127.0.0.1:${this.port};
    location / {
      proxy_pass http://latchkey;
      proxy_next_upstream off;
      proxy_set_header Host $host;
      add_header X-Generation ${this.generation} always;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
    await writeFile(join(this.dir, 'nginx.conf'), config);
  }
}
