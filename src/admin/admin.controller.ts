import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../audit/audit-log.service.js';
import { type Origin, RequestOrigin } from '../audit/origin.js';
import { PathIds, Roles } from '../common/decorators/roles.decorator.js';
import { ApiProblem } from '../common/openapi.js';
import { CurrentSession } from '../sessions/current-session.decorator.js';
import type { Session } from '../sessions/session.js';
import { AccountsService } from '../users/accounts.service.js';
import { AdminService } from './admin.service.js';
import { AdminUpdateUserDto, AdminUserDto, AdminUserPageDto } from './dto/admin-user.dto.js';
import { AuditEntryDto, AuditLogPageDto, AuditLogQueryDto } from './dto/audit-log.dto.js';
import { ListUsersQueryDto } from './dto/list-users.dto.js';

const NO_SUCH_USER = 'No user with this id (`not_found`).';

/** Every route here is for admins only: the class-level @Roles covers each one, new ones too. */
@ApiTags('admin')
@Roles('admin')
@Controller('admin')
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly accounts: AccountsService,
    private readonly audit: AuditLog,
  ) {}

  @Get('users')
  @ApiOperation({
    operationId: 'listUsers',
    summary: 'Every account, a page at a time, optionally searched',
    description:
      'Oldest first (ties by id), so new accounts land on the last page. `q` matches any part of the ' +
      'email or the name, ignoring case; its characters are literal, `%` and `_` included.',
  })
  @ApiOkResponse({ type: AdminUserPageDto, description: 'One page of accounts, and the total.' })
  async listUsers(@Query() query: ListUsersQueryDto): Promise<AdminUserPageDto> {
    const { items, total } = await this.admin.listUsers(query);
    return {
      items: items.map((user) => AdminUserDto.from(user)),
      page: query.page,
      pageSize: query.pageSize,
      total,
    };
  }

  @Patch('users/:id')
  @PathIds('id')
  @ApiOperation({
    operationId: 'administerUser',
    summary: 'Change the role of an account, or disable or enable it',
    description:
      'Demoting or disabling ends every session of the account at once, on every instance; a disabled ' +
      'account cannot log in (403 `account_disabled`). The last active admin cannot be demoted or ' +
      'disabled (409 `last_admin`), even by two requests at once (when the only two admins demote each other, ' +
      'the second gets 401 `invalid_token`: its own session ended with its demotion). Absent fields stay as they are.',
  })
  @ApiOkResponse({ type: AdminUserDto, description: 'The account as changed.' })
  @ApiProblem(404, NO_SUCH_USER)
  @ApiProblem(409, 'It is the last active admin, and the change would leave none (`last_admin`).')
  async updateUser(
    @Param('id') id: string,
    @Body() change: AdminUpdateUserDto,
    @CurrentSession() session: Session,
    @RequestOrigin() origin: Origin,
  ): Promise<AdminUserDto> {
    return AdminUserDto.from(await this.accounts.administer(id, change, origin, session));
  }

  @Post('users/:id/revoke-sessions')
  @PathIds('id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'revokeUserSessions',
    summary: 'End every session of an account',
    description:
      'Every token of the account is refused from now on, on every instance, including that of a login ' +
      'in flight. The account can log in again.',
  })
  @ApiNoContentResponse({ description: 'Every session ended.' })
  @ApiProblem(404, NO_SUCH_USER)
  async revokeSessions(
    @Param('id') id: string,
    @CurrentSession() session: Session,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.accounts.endAllSessions(id, origin, { action: 'sessions_revoked', by: session });
  }

  @Get('audit-log')
  @ApiOperation({
    operationId: 'readAuditLog',
    summary: 'The security events, newest first, optionally filtered',
    description:
      'Registrations, email verifications, logins (failed ones with the email tried, never the password), ' +
      'logouts, revoked sessions, password changes and resets, email changes, deletions, role changes, ' +
      'disabling and enabling. Filters combine (all must match). Rows are kept AUDIT_RETENTION_DAYS.',
  })
  @ApiOkResponse({ type: AuditLogPageDto, description: 'One page of events, and the total.' })
  async auditLog(@Query() query: AuditLogQueryDto): Promise<AuditLogPageDto> {
    const { items, total } = await this.audit.list(query);
    return {
      items: items.map((entry) => AuditEntryDto.from(entry)),
      page: query.page,
      pageSize: query.pageSize,
      total,
    };
  }
}
