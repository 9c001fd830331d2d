import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { RETRY_AFTER_SECONDS } from '../common/dependency-failure.js';
import { ProblemException } from '../common/problem.exception.js';
import { type MailConfig, mailConfig } from '../config/mail.config.js';
import { Mailer } from '../mailer/mailer.js';
import { EmailTokens } from './email-tokens.js';
import { type Message, render } from './templates.js';

/**
 * What the outbox holds: who gets which message. Never a token: the worker issues the token of a
 * verify or reset message as it sends it, so no table (the queue's included) holds a plaintext one.
 */
export type MailJob =
  | { kind: 'verify-email'; to: string; userId: string }
  | { kind: 'password-reset'; to: string; userId: string }
  | { kind: 'email-changed'; to: string; newEmail: string }
  | { kind: 'password-changed'; to: string }
  | { kind: 'registration-attempt'; to: string };

const SCHEMA = 'pgboss';
const RETRY_START_MS = 1000;
/** How long start-up, or a change just after the database came back, waits for the outbox. */
const START_WAIT_MS = 5000;

/** pg-boss's `db` adapter over a TypeORM query runner: its SQL runs on our connection. */
const adapter = (runner: () => Promise<{ runner: QueryRunner; release: boolean }>) => ({
  executeSql: async (text: string, values?: unknown[]) => {
    const { runner: queryRunner, release } = await runner();
    try {
      const result = await queryRunner.query(text, values, true);
      return { rows: result.records, rowCount: result.affected };
    } catch (error) {
      // pg-boss sends some work as one text with its own BEGIN … COMMIT: a failure inside leaves
      // the connection in an aborted transaction, which must not go back to the pool (the next
      // request to draw it would fail). The caller's own transaction is the caller's to end.
      if (release) await queryRunner.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      if (release) await queryRunner.release();
    }
  },
});

/**
 * The durable outbox (pg-boss, in its own schema of the app's database). `enqueue` writes the job
 * with the caller's transaction, so a message exists exactly when the change that causes it
 * committed. The worker (on unless MAIL_WORKER=off) sends off the request path; a failed send is
 * retried with exponential backoff, so a mail server that is down delays mail and loses none.
 */
@Injectable()
export class MailOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MailOutbox.name);
  private readonly boss: PgBoss;
  private ready?: Promise<void>;
  private stopping = false;
  private started = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(mailConfig.KEY) private readonly config: MailConfig,
    private readonly mailer: Mailer,
    private readonly tokens: EmailTokens,
  ) {
    this.boss = new PgBoss({
      db: adapter(async () => ({ runner: this.dataSource.createQueryRunner(), release: true })),
      schema: SCHEMA,
      supervise: config.worker,
      schedule: false,
      migrate: true,
    } as unknown as PgBoss.ConstructorOptions);
    this.boss.on('error', (error: Error) => this.logger.warn(`Mail outbox: ${error.message}`));
  }

  /** Starts in the background: the app serves while the database is away, and retries. */
  onApplicationBootstrap(): Promise<void> {
    const connected = this.dataSource.isInitialized;
    this.ready = this.startWhenPossible();
    if (!connected) return Promise.resolve();
    // With the database up, start before serving (bounded); during an outage, never wait.
    return this.startedWithin(START_WAIT_MS);
  }

  private startedWithin(ms: number): Promise<void> {
    return Promise.race([
      this.ready,
      new Promise<void>((resolve) => setTimeout(resolve, ms).unref()),
    ]);
  }

  private async startWhenPossible(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt += 1) {
      try {
        if (!this.dataSource.isInitialized) throw new Error('the database is not connected yet');
        await this.boss.start();
        await this.ensureQueue();
        this.started = true;
        if (this.config.worker) await this.startWorker();
        return;
      } catch (error) {
        if (attempt === 0)
          this.logger.warn(`Mail outbox not started yet (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_START_MS));
      }
    }
  }

  private async ensureQueue(): Promise<void> {
    if (await this.boss.getQueue(this.config.queue)) return;
    await this.boss
      .createQueue(this.config.queue, this.queueOptions() as PgBoss.Queue)
      .catch(async (error: Error) => {
        // Another instance created it meanwhile.
        if (!(await this.boss.getQueue(this.config.queue))) throw error;
      });
  }

  private queueOptions() {
    return {
      name: this.config.queue,
      retryLimit: this.config.retryLimit,
      retryDelay: this.config.retryDelaySeconds,
      retryBackoff: true,
    };
  }

  private async startWorker(): Promise<void> {
    await this.boss.work<MailJob>(
      this.config.queue,
      { pollingIntervalSeconds: this.config.pollIntervalMs / 1000, batchSize: 1 },
      async (jobs) => {
        for (const job of jobs) {
          await this.deliver(job.data).catch((error: Error) => {
            // Retried later with backoff; the message says what failed, never a link.
            this.logger.warn(`Could not send ${job.data.kind} mail (will retry): ${error.message}`);
            throw error;
          });
        }
      },
    );
  }

  /**
   * Adds a message to the outbox in the transaction of `manager` (the change that causes it).
   * The queue and its schema are made at start-up; until then this fails like a database outage.
   */
  async enqueue(manager: EntityManager, job: MailJob): Promise<void> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('MailOutbox.enqueue needs a transaction');
    // The database came back moments ago and the outbox is still making its queue: wait for it.
    if (!this.started) await this.startedWithin(START_WAIT_MS);
    const id = await this.boss.send(this.config.queue, job, {
      ...this.queueOptions(),
      db: adapter(async () => ({ runner, release: false })),
    } as PgBoss.SendOptions);
    // No row: the queue is not made yet (the database was away at start-up). Like an outage: 503.
    if (!id)
      throw new ProblemException(
        503,
        'service_unavailable',
        'The service is starting up. Retry shortly.',
        { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      );
  }

  /** Renders and sends one job; a throw makes pg-boss retry it later. */
  private async deliver(job: MailJob): Promise<void> {
    const message = await this.message(job);
    await this.mailer.send({ to: job.to, ...render(message) });
    // Who and which message, never the link: the link is the token.
    this.logger.log(`Sent ${job.kind} mail`);
  }

  private async message(job: MailJob): Promise<Message> {
    switch (job.kind) {
      case 'verify-email':
      case 'password-reset': {
        const kind = job.kind === 'verify-email' ? 'verify' : 'reset';
        const token = await this.dataSource.transaction((manager) =>
          this.tokens.issue(manager, kind, job.userId, job.to),
        );
        const page = kind === 'verify' ? 'verify-email' : 'reset-password';
        return {
          template: job.kind,
          link: `${this.config.appBaseUrl}/${page}?token=${encodeURIComponent(token)}`,
        };
      }
      case 'email-changed':
        return { template: 'email-changed', newEmail: job.newEmail };
      default:
        return { template: job.kind };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.ready;
    await this.boss.stop({ graceful: true, timeout: 5000, wait: true, close: false });
  }
}
