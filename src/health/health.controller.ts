import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { NoRateLimit } from '../common/decorators/no-rate-limit.decorator.js';
import { Public } from '../common/decorators/public.decorator.js';
import { RETRY_AFTER_SECONDS } from '../common/dependency-failure.js';
import { type AppConfig, appConfig } from '../config/app.config.js';
import { ApiNoDependencies, ApiProblem } from '../common/openapi.js';
import { ProblemException } from '../common/problem.exception.js';
import { SessionStore } from '../sessions/session-store.js';
import { LivenessDto, ReadinessDto, ReadinessProblemDto } from './dto/health.dto.js';
import { ShutdownService } from './shutdown.service.js';

@Public()
@NoRateLimit()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionStore,
    private readonly shutdown: ShutdownService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  @Get('live')
  @ApiOperation({
    operationId: 'checkLiveness',
    security: [],
    summary: 'Liveness: 200 while the process runs',
  })
  @ApiNoDependencies()
  @ApiOkResponse({ type: LivenessDto, description: 'The process runs.' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    operationId: 'checkReadiness',
    security: [],
    summary: 'Readiness: the database and the session store answer, and no shutdown has begun',
    description:
      'On failure, 503 `service_unavailable`; `checks` says which dependency is down. From SIGTERM ' +
      'on, 503 without `checks` while the service still serves for `SHUTDOWN_DELAY`.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready: every check is up.' })
  @ApiProblem(
    503,
    'Not ready (`service_unavailable`): a dependency is down (`checks` says which), or the service is shutting down.',
    {
      type: ReadinessProblemDto,
      example: {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'Not ready: database not answering.',
        code: 'service_unavailable',
        checks: { database: 'down', sessions: 'up' },
      },
    },
  )
  async ready(): Promise<HealthCheckResult> {
    if (this.shutdown.isShuttingDown) {
      throw new ProblemException(503, 'service_unavailable', 'Not ready: shutting down.', {
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      });
    }
    // A check that gets no answer within the bound of every other call is down, not pending.
    const timeout = this.config.dependencyTimeoutMs;
    try {
      return await this.health.check([
        () => this.database.pingCheck('database').withTimeout(timeout),
        () =>
          this.indicators
            .check('sessions')
            .attempt(() => this.sessions.ping())
            .withTimeout(timeout),
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
          headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
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
