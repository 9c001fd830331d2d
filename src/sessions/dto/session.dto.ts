import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../session.js';

/** A session as its owner sees it: never the token or its digest. */
export class SessionDto {
  @ApiProperty({ format: 'uuid', description: 'Public session id (not the token).' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'Last use, recorded at most once a SESSION_TOUCH_INTERVAL.',
  })
  lastUsedAt!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'The sooner of the idle and absolute timeouts.',
  })
  expiresAt!: string;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'curl/8.5.0', maxLength: 256 })
  userAgent!: string | null;

  @ApiProperty({ description: 'True for the session of the token making this request.' })
  current!: boolean;

  static from(session: Session, currentId: string): SessionDto {
    return {
      id: session.id,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      ip: session.ip,
      userAgent: session.userAgent,
      current: session.id === currentId,
    };
  }
}
