import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { ProblemException } from '../common/problem.exception.js';
import { SessionStore } from '../sessions/session-store.js';

const CHECK_TIMEOUT_MS = 2000;

@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionStore,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process runs' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: the database and the session store answer',
    description: 'On failure, 503 `service_unavailable`; `checks` says which dependency is down.',
  })
  @ApiOkResponse({
    description: 'Ready: every check is up.',
    schema: {
      type: 'object',
      required: ['status', 'details'],
      properties: {
        status: { type: 'string', enum: ['ok'] },
        info: { type: 'object' },
        error: { type: 'object' },
        details: {
          type: 'object',
          description:
            'Per check (`database`, `sessions`): `{status: "up"}` and its response time.',
        },
      },
    },
  })
  @ApiProblems(503)
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('sessions')
            .attempt(() => this.sessions.ping())
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const down = Object.keys(result.error ?? {});
      throw new ProblemException(
        503,
        'service_unavailable',
        `Not ready: ${down.join(' and ')} not answering.`,
        {
          extensions: {
            checks: Object.fromEntries(
              Object.entries(result.details).map(([key, value]) => [key, value.status]),
            ),
          },
        },
      );
    }
  }
}
