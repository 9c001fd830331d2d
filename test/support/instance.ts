import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { e2eDatabaseUrl, migrateOnce } from './app.js';
import { freePort } from './free-port.js';
import { recordExchange } from './ledger.js';

export { freePort };

/** Processes run the app that global setup built; the schema must exist before they start. */
export const prepareInstances = () => migrateOnce();

/** One app process on its own port, sharing the run's test database. */
export class Instance {
  private process?: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output = '';

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string>, port?: number): Promise<Instance> {
    const instance = new Instance(port ?? (await freePort()), env);
    await instance.start();
    return instance;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        ...process.env,
        PORT: String(this.port),
        DATABASE_URL: e2eDatabaseUrl(),
        DB_MIGRATIONS_RUN: 'false',
        LOG_LEVEL: 'warn',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout?.on('data', (chunk: Buffer) => (this.output += chunk));
    this.process.stderr?.on('data', (chunk: Buffer) => (this.output += chunk));
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await delay(100)) {
      if (this.process.exitCode !== null) break;
      const ready = await fetch(`${this.url}/docs-json`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return;
    }
    throw new Error(`The app on :${this.port} did not start:\n${this.output}`);
  }

  /** SIGTERM, as an orchestrator stops an instance; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.process;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    return code;
  }

  async request(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        ...(options.body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: options.body ? JSON.stringify(options.body) : undefined,
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : undefined;
    recordExchange(options.body, response.status, body);
    return { status: response.status, body };
  }

  /**
   * A JSON POST sent with `Expect: 100-continue`: `received` resolves once the server has parsed the
   * request (it answers "100 Continue"), i.e. once the request is really in flight there.
   */
  postInFlight(
    path: string,
    body: unknown,
  ): { received: Promise<void>; response: Promise<number> } {
    const payload = JSON.stringify(body);
    recordExchange(body, 200, undefined);
    const request = httpRequest(`${this.url}${path}`, {
      method: 'POST',
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        Expect: '100-continue',
      },
    });
    const received = once(request, 'continue').then(() => void request.end(payload));
    const response = once(request, 'response').then(([incoming]) => {
      incoming.resume();
      return once(incoming, 'end').then(() => incoming.statusCode as number);
    });
    request.flushHeaders();
    return { received, response };
  }
}
