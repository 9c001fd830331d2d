import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { type AppConfig, appConfig } from '../config/app.config.js';

/**
 * The first step of app.close(), before Nest closes the listener and drains: readiness turns 503
 * and every response from then on closes its connection, while the server keeps accepting for
 * SHUTDOWN_DELAY so that a load balancer stops routing here. Closing the listener at once would
 * reset the connections still waiting in its accept queue, and a kept-alive connection closed
 * while idle can meet a request already on its way.
 */
@Injectable()
export class ShutdownService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private shuttingDown = false;
  /** Responses not yet finished, so that those in flight at the signal close their connection too. */
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  onApplicationBootstrap(): void {
    // No HTTP server in an application context (the CLI): nothing to drain.
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    // Ahead of Express, so the header is set before anything can answer.
    server?.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
      if (this.shuttingDown) {
        response.setHeader('Connection', 'close');
        return;
      }
      this.open.add(response);
      response.once('close', () => this.open.delete(response));
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const response of this.open) {
      if (!response.headersSent) response.setHeader('Connection', 'close');
    }
    this.open.clear();
    const seconds = this.config.shutdownDelaySeconds;
    if (seconds === 0) return;
    this.logger.log(`Readiness is 503; still serving for ${seconds}s (SHUTDOWN_DELAY)`);
    await delay(seconds * 1000);
  }
}
