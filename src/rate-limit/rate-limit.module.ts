import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type AppConfig, appConfig } from '../config/app.config.js';
import { type RateLimitConfig, rateLimitConfig } from '../config/rate-limit.config.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { LoginThrottle } from './login-throttle.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimits } from './rate-limits.service.js';

/**
 * Rate limits per client IP and email, and per-account login throttling, in the shared Redis when
 * one is configured. Its guard is global and registered before AuthGuard (this module is imported
 * first), so a flood is refused before any token is looked up.
 */
@Module({
  imports: [SessionsModule],
  providers: [RateLimits, LoginThrottle, { provide: APP_GUARD, useClass: RateLimitGuard }],
  exports: [RateLimits, LoginThrottle],
})
export class RateLimitModule implements OnModuleInit {
  constructor(
    @Inject(rateLimitConfig.KEY) private readonly config: RateLimitConfig,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.enabled && this.app.isProduction) {
      new Logger('RateLimits').warn(
        'RATE_LIMITS=off in production: nothing limits login, registration or recovery attempts',
      );
    }
  }
}
