import type { Request } from 'express';
import { LoggerModule } from 'nestjs-pino';
import { type AppConfig, appConfig } from '../config/app.config.js';

/** Paths of anything secret that could reach a log line; pino replaces them with "[Redacted]". */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.token',
  '*.passwordHash',
];

/** Known only once the request has been routed and authenticated, i.e. when its line is written. */
const routeAndUser = (request: unknown) => ({
  route: (request as Request).route?.path,
  userId: (request as { auth?: { user: { id: string } } }).auth?.user.id,
});

/**
 * Structured logs (pino): JSON lines in production and test, one readable line per entry in
 * development; one line per request with method, route, status, duration, request id and user.
 */
export const loggingModule = () =>
  LoggerModule.forRootAsync({
    inject: [appConfig.KEY],
    useFactory: (config: AppConfig) => ({
      pinoHttp: {
        level: config.logLevel,
        transport:
          config.nodeEnv === 'development'
            ? {
                target: 'pino-pretty',
                options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
              }
            : undefined,
        redact: REDACTED,
        customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
        // Every line logged during a request carries its id; the request id middleware chose it.
        quietReqLogger: true,
        genReqId: (request) => (request as Request & { id: string }).id,
        serializers: {
          // The path only: a query string could carry something secret.
          req: (request: { method: string; url: string }) => ({
            method: request.method,
            path: request.url.split('?')[0],
          }),
          res: (response: { statusCode: number }) => ({ status: response.statusCode }),
        },
        customSuccessObject: (request, _response, line) => ({ ...line, ...routeAndUser(request) }),
        customErrorObject: (request, _response, _error, line) => ({
          ...line,
          ...routeAndUser(request),
        }),
      },
    }),
  });
