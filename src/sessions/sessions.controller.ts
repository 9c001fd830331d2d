import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AuditLog } from '../audit/audit-log.service.js';
import { type Origin, RequestOrigin } from '../audit/origin.js';
import { ApiProblem } from '../common/openapi.js';
import { ProblemException } from '../common/problem.exception.js';
import { UuidPipe } from '../common/validation.js';
import { CurrentSession } from './current-session.decorator.js';
import { SessionDto } from './dto/session.dto.js';
import type { Session } from './session.js';
import { SessionFence } from './session-fence.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('auth')
@ApiBearerAuth('bearer')
@Controller('auth/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly fence: SessionFence,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listSessions', summary: 'Your live sessions, newest first' })
  @ApiOkResponse({
    type: [SessionDto],
    description: 'Your live sessions; `current` marks this one.',
  })
  async listSessions(@CurrentSession() current: Session): Promise<SessionDto[]> {
    // The guard accepted this session, so its credential version is the user's current one.
    const sessions = await this.sessions.list({
      id: current.userId,
      credentialVersion: current.credentialVersion,
    });
    return sessions.map((each) => SessionDto.from(each, current.id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'endSession',
    summary: 'End one of your sessions',
    description:
      'Any session id that is not one of your live sessions answers 404, whether or not it exists.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'A session id from `listSessions`.' })
  @ApiNoContentResponse({ description: 'That session ended.' })
  @ApiProblem(404, 'Not one of your live sessions, whether or not it exists (`not_found`).')
  async endSession(
    @Param('id', UuidPipe) id: string,
    @CurrentSession() current: Session,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    if (!(await this.sessions.end(current.userId, id))) {
      throw new ProblemException(404, 'not_found', 'You have no session with this id.');
    }
    // The session store is no transaction of the database's: the row follows the change.
    await this.audit.recordAlone(origin, {
      action: 'session_revoked',
      targetId: current.userId,
      details: { sessionId: id },
    });
    // A write of the ended session still in flight commits before this answers (see logout).
    await this.fence.drain(current.userId);
  }
}
