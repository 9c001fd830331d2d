import type { INestApplication } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type {
  NestExpressApplication,
  NestExpressBodyParserOptionsFor,
} from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { useContainer } from 'class-validator';
import helmet from 'helmet';
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
* Too many requests answer 429 \`rate_limited\` with \`Retry-After\` (seconds). Limits are per client IP
  (IPv6 by /64; behind a proxy, as \`TRUST_PROXY\` says): 300 a minute on any route but the health
  probes; login 10 a minute; register 10 an hour; forgot-password and verify-email/resend 10 an hour
  per IP and 3 an hour per target email. Login is also throttled per account, from any address: after
  5 attempts without the right password each further one waits 1 s, doubling up to 15 min. Every
  instance shares the counts (through Redis when one is configured). A counter store that fails
  answers 503 on these routes (the general limit alone lets requests through).
* New passwords (register, \`updateUser\`, reset) are refused with 400 (field \`password\`, with the
  reason) when they are among the most common passwords, contain the service name or the email's
  local part, or (when the service is set up to check) appear in a breach corpus.
* Responses carry security headers (HSTS, \`nosniff\`, a Content-Security-Policy with
  \`frame-ancestors 'none'\`, \`Referrer-Policy: no-referrer\`). Cross-origin browser access (CORS)
  is off unless the service lists your origin; credentials are never allowed.
* The request examples work as shown, in order, on a fresh service: register, log in, then any
  \`updateUser\` example on that account.`;

/** The paths whose responses configureApp marks \`Cache-Control: no-store\`. */
const NO_STORE_PATHS = ['/auth', '/users', '/admin'];

/** A year, the least HSTS max-age that browsers' preload lists accept. */
const HSTS_MAX_AGE = 365 * 24 * 3600;

/** Seconds a browser may cache a CORS preflight's answer. */
const CORS_MAX_AGE = 600;

/**
 * Security headers (helmet) on every response. The API's JSON needs no resource at all, so its
 * policy allows nothing; Swagger UI at /docs loads its own scripts and styles, and sets inline
 * styles, images as data: URIs, and fetches /docs-json. Neither may be framed.
 */
const securityHeaders = (scriptsAndStyles: boolean) =>
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: scriptsAndStyles
        ? {
            defaultSrc: ["'self'"],
            scriptSrc: ["'self'"],
            styleSrc: ["'self'", "'unsafe-inline'"],
            imgSrc: ["'self'", 'data:'],
            connectSrc: ["'self'"],
            objectSrc: ["'none'"],
            baseUri: ["'none'"],
            formAction: ["'self'"],
            frameAncestors: ["'none'"],
          }
        : { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    strictTransportSecurity: { maxAge: HSTS_MAX_AGE, includeSubDomains: true },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });

/** Everything between "the app exists" and "it listens": shared by main.ts and the e2e tests. */
export function configureApp(app: NestExpressApplication): INestApplication {
  const config = app.get<AppConfig>(appConfig.KEY);
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  answerNodeHttpErrorsAsProblems(app.getHttpServer());
  app.use(requestId);
  const docsHeaders = securityHeaders(true);
  const apiHeaders = securityHeaders(false);
  app.use((request: Request, response: Response, next: NextFunction) =>
    (request.path === '/docs' || request.path.startsWith('/docs/') ? docsHeaders : apiHeaders)(
      request,
      response,
      next,
    ),
  );
  if (config.corsOrigins.length > 0) {
    // An explicit list, never the request's own origin; no credentials: tokens travel in a header.
    app.enableCors({
      origin: config.corsOrigins,
      credentials: false,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'WWW-Authenticate'],
      maxAge: CORS_MAX_AGE,
    });
  }
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
  if (config.swaggerEnabled) {
    SwaggerModule.setup('docs', app, openApiDocument(app), {
      jsonDocumentUrl: 'docs-json',
      customSiteTitle: 'Latchkey API',
    });
  }
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
