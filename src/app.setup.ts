import type { INestApplication } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type {
  NestExpressApplication,
  NestExpressBodyParserOptionsFor,
} from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { useContainer } from 'class-validator';
import { type AppConfig, appConfig } from './config/app.config.js';
import {
  BODY_LIMIT,
  escapeUndecodablePath,
  limitBodyDepth,
  MAX_BODY_DEPTH,
  noStore,
  refuseWhatNodeWould,
  requestId,
  requireJsonBody,
  requireUtf8,
} from './common/http.middleware.js';
import { answerNodeHttpErrorsAsProblems } from './common/node-http-errors.js';
import {
  FieldErrorDto,
  ProblemDto,
  withClosedRequestBodies,
  withCommonProblems,
  withMethodNotAllowed,
  withResponseHeaders,
} from './common/openapi.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { UniqueViolations } from './common/unique-violations.js';
import { createValidationPipe } from './common/validation.js';

type JsonParserOptions = NestExpressBodyParserOptionsFor<'json'>;

const API_DESCRIPTION = `Register, log in for an opaque bearer token, and manage your own account.

* Send \`Authorization: Bearer <token>\` on every route except register and login. Tokens start with \`lk_\`.
* Every error is RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\`.
* Request bodies are JSON (else 415), at most 16 KiB (else 413); unknown fields are refused (400).
  A declared \`Content-Length\` over 16 KiB is refused at once, unread, and the connection closes.
* Bodies are UTF-8: a \`charset\` other than \`utf-8\` (any case) is a 415, bytes that are not UTF-8 are
  400 \`malformed_json\`, and so is a body nesting objects or arrays more than ${MAX_BODY_DEPTH} levels deep.
* A 400 \`validation_failed\` lists at most 20 \`errors\`.
* Ids in paths are compared case-insensitively; ids in responses are lower-case. A path segment with
  malformed percent-encoding is taken literally (so \`/users/%FF\` is a malformed id, 400 after 401).
* Requests that are not well-formed HTTP are answered as problem details too, with
  \`Connection: close\`: 431 \`headers_too_large\`, 408 \`request_timeout\`, 417 \`expectation_failed\`
  (an \`Expect\` other than \`100-continue\`), otherwise 400 \`bad_request\` (a malformed request
  line or header, an HTTP/1.1 request without \`Host\`).
* Checks run in this order: body (413, 415, malformed JSON), authentication (401), malformed id (400),
  permission (403), body validation (400), then the operation (404, 409).
* Every response carries \`X-Request-Id\` (yours, if it is 1–128 of \`[A-Za-z0-9._-]\`); those under
  \`/auth\`, \`/users\` and \`/admin\` carry \`Cache-Control: no-store\`.
* A method a path does not take answers 405 \`method_not_allowed\` with \`Allow\`
  (the \`MethodNotAllowed\` response).
* Ids are UUIDs, returned in lower case; times are ISO 8601 UTC.
* The request examples work as shown, in order, on a fresh service: register, log in, then any
  \`updateUser\` example on that account.`;

/** The paths whose responses configureApp marks \`Cache-Control: no-store\`. */
const NO_STORE_PATHS = ['/auth', '/users', '/admin'];

/** Everything between "the app exists" and "it listens": shared by main.ts and the e2e tests. */
export function configureApp(app: NestExpressApplication): INestApplication {
  const config = app.get<AppConfig>(appConfig.KEY);
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  answerNodeHttpErrorsAsProblems(app.getHttpServer());
  app.use(requestId);
  app.use(refuseWhatNodeWould);
  app.use(escapeUndecodablePath);
  app.use(NO_STORE_PATHS, noStore);
  app.use(requireJsonBody);
  // Nest's type reserves `verify` for its rawBody option, which this app does not use.
  app.useBodyParser('json', { limit: BODY_LIMIT, verify: requireUtf8 } as JsonParserOptions);
  app.use(limitBodyDepth);
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(UniqueViolations)));
  app.useGlobalPipes(createValidationPipe());
  // Lets validators that depend on configuration (the password policy) be injected; class-validator
  // asks for its own classes too, which Nest does not have, hence the fallback.
  const moduleRef = app.get(ModuleRef);
  useContainer(
    { get: (type) => moduleRef.get(type, { strict: false }) },
    { fallbackOnErrors: true },
  );
  SwaggerModule.setup('docs', app, openApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Latchkey API',
  });
  return app;
}

/** The OpenAPI document of the app's routes; needs no running server or database. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Latchkey')
      .setDescription(API_DESCRIPTION)
      .setVersion('1')
      .addServer('/', 'This server')
      // Each operation says its security: bearer, or `security: []` where the route is @Public().
      // Redocly's security-defined rule fails one that says neither; an e2e test, one the guard contradicts.
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'lk_…' }, 'bearer')
      .addTag('auth', 'Registration, login, logout and your sessions.')
      .addTag('users', 'Your account (admins: any account).')
      .addTag(
        'admin',
        'For admins only (403 for anyone else): accounts, roles, disabling, the audit log.',
      )
      .addTag('health', 'Probes for orchestrators and load balancers; no token needed.')
      .build(),
    {
      extraModels: [ProblemDto, FieldErrorDto],
      // A route without an explicit operationId is named after its handler, never Controller_method.
      operationIdFactory: (_controller, method) => method,
    },
  );
  withCommonProblems(document);
  withResponseHeaders(document, { noStorePaths: NO_STORE_PATHS });
  withClosedRequestBodies(document);
  return withMethodNotAllowed(document);
}
