import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsUUID } from 'class-validator';
import {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
} from '../../audit/audit-entry.entity.js';
import { Optional, PageDto, PageQueryDto } from './page.dto.js';

/** Ids compare case-insensitively and are stored lower-case. */
const LowerCase = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value));

export class AuditLogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only events this user caused.' })
  @IsUUID('all', { message: 'must be a UUID' })
  @Optional()
  @LowerCase()
  actorId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only events about this user.' })
  @IsUUID('all', { message: 'must be a UUID' })
  @Optional()
  @LowerCase()
  targetId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, description: 'Only events of this kind.' })
  @IsIn(AUDIT_ACTIONS, { message: 'must be one of the audit actions' })
  @Optional()
  action?: AuditAction;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T09:30:00.000Z' })
  at!: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      'Who acted: the user of the token, or the account a login proved; null without a token ' +
      '(registration, a failed login, a link from a message) and for the command line.',
  })
  actorId!: string | null;

  @ApiProperty({ enum: AUDIT_ACTIONS, example: 'login_succeeded' })
  action!: AuditAction;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The account acted on; null when none matched (a login with an unknown email).',
  })
  targetId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The `X-Request-Id` of the request; null for the command line.',
  })
  requestId!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
    nullable: true,
    example: { email: 'ada@example.com', reason: 'wrong_password' },
    description:
      'What the event adds: the email a login or reset request named (never a password) and why a ' +
      'login failed; the old and new role or email; the id of a revoked session.',
  })
  details!: Record<string, string | null> | null;

  static from(entry: AuditEntry): AuditEntryDto {
    return {
      id: entry.id,
      at: entry.at.toISOString(),
      actorId: entry.actorId,
      action: entry.action,
      targetId: entry.targetId,
      ip: entry.ip,
      requestId: entry.requestId,
      details: entry.details,
    };
  }
}

export class AuditLogPageDto extends PageDto {
  @ApiProperty({ type: [AuditEntryDto], description: 'Newest first.' })
  items!: AuditEntryDto[];
}
