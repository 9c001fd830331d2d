import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProblemDto } from '../../common/openapi.js';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

export class CheckUpDto {
  @ApiProperty({ enum: ['up'] })
  status!: 'up';
}

/** One key per dependency the service needs; a new dependency adds its key. */
export class ReadinessDetailsDto {
  @ApiProperty({ type: CheckUpDto, description: 'PostgreSQL answered.' })
  database!: CheckUpDto;

  @ApiProperty({ type: CheckUpDto, description: 'The session store (`SESSION_STORE`) answered.' })
  sessions!: CheckUpDto;
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({ type: ReadinessDetailsDto, description: 'Every check, each of them up.' })
  details!: ReadinessDetailsDto;

  @ApiProperty({ type: ReadinessDetailsDto, description: 'The checks that are up: all of them.' })
  info!: ReadinessDetailsDto;

  @ApiProperty({
    type: 'object',
    properties: {},
    additionalProperties: false,
    description: 'The checks that are down: none, on a 200.',
  })
  error!: Record<string, never>;
}

const UP_OR_DOWN = { enum: ['up', 'down'] as const };

export class ReadinessChecksDto {
  @ApiProperty({ ...UP_OR_DOWN, description: 'PostgreSQL.' })
  database!: 'up' | 'down';

  @ApiProperty({ ...UP_OR_DOWN, description: 'The session store (`SESSION_STORE`).' })
  sessions!: 'up' | 'down';
}

/** The 503 of /health/ready: a problem that says which dependency is down. */
export class ReadinessProblemDto extends ProblemDto {
  @ApiPropertyOptional({
    type: ReadinessChecksDto,
    description: 'Each dependency, `up` or `down`; present when a check failed.',
    example: { database: 'down', sessions: 'up' },
  })
  checks?: ReadinessChecksDto;
}
