import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { NO_RATE_LIMIT_KEY } from '../common/decorators/no-rate-limit.decorator.js';
import { clientBucket } from './client-ip.js';
import { RATE_LIMIT_KEY, type RateLimit } from './rate-limit.decorator.js';
import { digestKey, RateLimits } from './rate-limits.service.js';

type Rules = Parameters<typeof RateLimit>;

/** As the account's email is stored: so `Ada@Example.com ` and `ada@example.com` share a count. */
const normalized = (email: string) => email.trim().normalize('NFC').toLowerCase();

/**
 * The general per-IP limit on every route (but those marked @NoRateLimit), then the route's own
 * rules (@RateLimit). A guard, so it runs after the body was parsed (a rule may key on its email)
 * and before the token, the body and the handler cost anything.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limits.enabled) return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(NO_RATE_LIMIT_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const ip = clientBucket(request.ip);
    await this.limits.consume('general', ip);
    for (const [rule, source] of this.reflector.get<Rules>(RATE_LIMIT_KEY, context.getHandler()) ??
      []) {
      if (source === 'ip') {
        await this.limits.consume(rule, ip);
        continue;
      }
      // Not a string: the body is invalid, which validation answers; the IP rules still count it.
      const email = (request.body as { email?: unknown } | undefined)?.email;
      if (typeof email === 'string') await this.limits.consume(rule, digestKey(normalized(email)));
    }
    return true;
  }
}
