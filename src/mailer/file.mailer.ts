import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { Mailer, type OutgoingMessage } from './mailer.js';

/**
 * Development without a mail server: each message becomes an .eml file (the raw message, as SMTP
 * would carry it) in `dir`, and its path is logged, so the verification link can be opened from
 * it. Refused in production by the configuration.
 */
export class FileMailer extends Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly logger: Pick<Logger, 'log'>,
  ) {
    super();
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  }

  async send(message: OutgoingMessage): Promise<void> {
    const info = await this.transport.sendMail({ from: this.from, ...message });
    await mkdir(this.dir, { recursive: true });
    const path = resolve(
      join(
        this.dir,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`,
      ),
    );
    await writeFile(path, info.message as Buffer, { mode: 0o600 });
    this.logger.log(`Mail to ${message.to} ("${message.subject}") written to ${path}`);
  }

  async close(): Promise<void> {}
}
