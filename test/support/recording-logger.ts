import type { LoggerService } from '@nestjs/common';

/** Keeps every line the app logs, at every level. */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  private record = (...parts: unknown[]) => {
    this.lines.push(
      parts
        .map((part) => (part instanceof Error ? `${part.message} ${part.stack}` : String(part)))
        .join(' '),
    );
  };
  log = this.record;
  error = this.record;
  warn = this.record;
  debug = this.record;
  verbose = this.record;
  fatal = this.record;
}
