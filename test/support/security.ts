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

/** Fills a documented path with ids: `/users/{id}` → `/users/<id>`. */
export const fill = (path: string, id: string) => path.replace(/\{[^}]+\}/g, id);
