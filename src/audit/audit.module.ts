import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEntry } from './audit-entry.entity.js';
import { AuditLog } from './audit-log.service.js';
import { AuditRetention } from './audit-retention.js';

/** The audit log of security events: appending, reading for admins, and the retention purge. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntry])],
  providers: [AuditLog, AuditRetention],
  exports: [AuditLog, AuditRetention],
})
export class AuditModule {}
