import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SessionsModule } from '../sessions/sessions.module.js';
import { HealthController } from './health.controller.js';
import { ShutdownService } from './shutdown.service.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SessionsModule],
  controllers: [HealthController],
  providers: [ShutdownService],
})
export class HealthModule {}
