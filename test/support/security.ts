import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import { randomInt } from 'node:crypto';
import { openApiDocument } from '../../src/app.setup.js';

/** A client address of its own (TEST-NET-2/3 and 10/8), so no two tests share a rate-limit bucket. */
export const freshIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** A /64 of the IPv6 documentation range of its own, as `prefix:` to append an interface id to. */
export const freshIpv6Prefix = () =>
  `2001:db8:${randomInt(0x10000).toString(16)}:${randomInt(0x10000).toString(16)}:`;

export interface DocumentedOperation {
  method: string;
  /** As documented: `/users/{id}`. */
  path: string;
  operation: OperationObject;
  secured: boolean;
  hasBody: boolean;
}

/**
 * Every operation of the app's own OpenAPI document, so the matrices cover each route the app
 * has (routes added later included) without a list to keep up to date.
 */
export function documentedOperations(app: NestExpressApplication): DocumentedOperation[] {
  const document: OpenAPIObject = openApiDocument(app);
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]: [string, OperationObject]) => ({
        method,
        path,
        operation,
        secured: (operation.security ?? document.security ?? []).some(
          (each) => Object.keys(each).length > 0,
        ),
        hasBody: operation.requestBody !== undefined,
      })),
  );
}

/** The schema of an operation's JSON body, resolved, with its declared properties. */
export function bodySchema(
  app: NestExpressApplication,
  operation: OperationObject,
): { properties: Record<string, { type?: string; format?: string }>; required: string[] } {
  const document = openApiDocument(app);
  const content = (operation.requestBody as { content: Record<string, { schema: unknown }> })
    .content['application/json'];
  const ref = (content.schema as { $ref?: string }).$ref;
  const schema = (
    ref ? document.components?.schemas?.[ref.split('/').pop() as string] : content.schema
  ) as {
    properties?: Record<string, { type?: string; format?: string }>;
    required?: string[];
  };
  return { properties: schema.properties ?? {}, required: schema.required ?? [] };
}

/** Fills a documented path with ids: `/users/{id}` → `/users/<id>`. */
export const fill = (path: string, id: string) => path.replace(/\{[^}]+\}/g, id);

/** Keeps every line the app logs through Nest, at every level. */
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
