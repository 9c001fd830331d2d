import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../session.js';

/** A session as its owner sees it: never the token or its digest. */
export class SessionDto {
  @ApiProperty({
    format: 'uuid',
    example: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
    description: 'Public session id (not the token); end the session with it.',
  })
  id!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T09:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2025-01-15T10:05:00.000Z',
    description: 'Last use, recorded at most once a SESSION_TOUCH_INTERVAL.',
  })
  lastUsedAt!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2025-01-16T10:05:00.000Z',
    description: 'The sooner of the idle and absolute timeouts.',
  })
  expiresAt!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.7',
    maxLength: 64,
    description: 'The client address at login, as TRUST_PROXY lets the service see it.',
  })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'curl/8.5.0', maxLength: 256 })
  userAgent!: string | null;

  @ApiProperty({
    example: true,
    description: 'True for the session of the token making this request.',
  })
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
