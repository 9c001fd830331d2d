import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * - `pass`: forwards both ways.
 * - `stall`: accepts connections and holds every byte (and every close) in both directions, on new
 *   and open connections alike, as a hung server or a black-holed network does.
 * - `refuse`: resets every open connection and each new one as it arrives.
 */
export type ProxyMode = 'pass' | 'stall' | 'refuse';

const DEFAULT_PORTS: Record<string, number> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'redis:': 6379,
};

/**
 * A TCP proxy of the tests' own, in front of a real server, whose failures a test switches on and
 * off. Back in `pass`, what a stall held is delivered in order, as after a network hiccup.
 */
export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private readonly sockets = new Set<Socket>();
  /** What a stall holds back: writes and closes, in the order they happened. */
  private held: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    readonly port: number,
  ) {}

  /** Listens on a free port of 127.0.0.1, in front of the host and port of `url`. */
  static async inFrontOf(url: string): Promise<TcpProxy> {
    const target = new URL(url);
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new TcpProxy(server, target, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** `url` (the target's) with its host and port moved to the proxy. */
  get url(): string {
    const url = new URL(this.target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  set(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === 'refuse') {
      this.held = [];
      for (const socket of this.sockets) socket.resetAndDestroy();
    } else if (mode === 'pass') {
      const held = this.held;
      this.held = [];
      for (const action of held) action();
    }
  }

  async close(): Promise<void> {
    this.held = [];
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({
      host: this.target.hostname,
      port: Number(this.target.port) || DEFAULT_PORTS[this.target.protocol],
    });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // A reset or refused peer is what these tests are about, not a failure of the proxy.
      socket.on('error', () => undefined);
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => this.deliver(() => to.write(chunk)));
    from.on('close', () => this.deliver(() => to.destroy()));
  }

  private deliver(action: () => void): void {
    if (this.mode === 'pass') action();
    else if (this.mode === 'stall') this.held.push(action);
  }
}
