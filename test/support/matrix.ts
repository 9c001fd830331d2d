import type { NestExpressApplication } from '@nestjs/platform-express';
import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { openApiDocument } from '../../src/app.setup.js';
import { account, type Account } from './factories.js';
import { document, type OperationDoc } from './openapi.js';

export interface MatrixOperation {
  method: string;
  path: string;
  operation: OperationDoc;
  name: string;
  secured: boolean;
}

/**
 * Every operation of the OpenAPI document (openapi.json, which `npm run openapi:check` keeps equal
 * to the app's), so the matrices cover each route, the ones added later included.
 */
export const ALL_OPERATIONS: MatrixOperation[] = Object.entries(document.paths).flatMap(
  ([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      method,
      path,
      operation,
      name: `${method.toUpperCase()} ${path}`,
      secured: (operation.security ?? document.security ?? []).some(
        (each) => Object.keys(each).length > 0,
      ),
    })),
);

/** The matrix must not run on a stale document: the app serves exactly these operations. */
export function expectDocumentIsTheApps(app: NestExpressApplication): void {
  const live = openApiDocument(app);
  const names = Object.entries(live.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
  expect(names.sort()).toEqual(ALL_OPERATIONS.map(({ name }) => name).sort());
}

/** An account made admin the way the first admin is: outside the API. */
export async function adminAccount(app: NestExpressApplication): Promise<Account> {
  const admin = await account(app);
  await app.get(DataSource).query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.id]);
  return admin;
}

export const isAdminRoute = (path: string) => path === '/admin' || path.startsWith('/admin/');
