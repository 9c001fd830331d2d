import type { INestApplication } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { useContainer } from 'class-validator';
import { type AppConfig, appConfig } from './config/app.config.js';
import { noStore, requestId, requireJsonBody } from './common/http.middleware.js';
import { FieldErrorDto, ProblemDto, withCommonProblems } from './common/openapi.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { UniqueViolations } from './common/unique-violations.js';
import { createValidationPipe } from './common/validation.js';

const BODY_LIMIT = '16kb';

const API_DESCRIPTION = `Register, log in for an opaque bearer token, and manage your own account.

* Send \`Authorization: Bearer <token>\` on every route except register and login. Tokens start with \`lk_\`.
* Every error is RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\`.
* Request bodies are JSON (else 415), at most 16 KiB (else 413); unknown fields are refused (400).
* Checks run in this order: body (413, 415, malformed JSON), authentication (401), malformed id (400),
  permission (403), body validation (400), then the operation (404, 409).
* Every response carries \`X-Request-Id\` (yours, if it is 1–128 of \`[A-Za-z0-9._-]\`).`;

/** Everything between "the app exists" and "it listens": shared by main.ts and the e2e tests. */
export function configureApp(app: NestExpressApplication): INestApplication {
  const config = app.get<AppConfig>(appConfig.KEY);
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(requestId);
  app.use(['/auth', '/users'], noStore);
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: BODY_LIMIT });
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
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'lk_…' }, 'bearer')
      .build(),
    { extraModels: [ProblemDto, FieldErrorDto] },
  );
  return withCommonProblems(document);
}
