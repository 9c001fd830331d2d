import type { OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Session } from '../session.js';
import { SessionStore } from '../session-store.js';

/** Marks a touch: only an existing, unexpired session is moved, so a revoked one cannot come back. */
const TOUCH = `
local key = ARGV[1] .. 'session:' .. ARGV[2]
local expiresAt = redis.call('HGET', key, 'expiresAt')
if not expiresAt or tonumber(expiresAt) <= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', key, 'lastUsedAt', ARGV[3], 'expiresAt', ARGV[4])
redis.call('PEXPIREAT', key, ARGV[4])
redis.call('PEXPIREAT', ARGV[1] .. 'token:' .. redis.call('HGET', key, 'tokenDigest'), ARGV[4])
return 1`;

/**
 * Deletes sessions of one user. ARGV: key prefix, user id, one session id (or '' for all of them),
 * a session id to keep (or ''), now in ms. Returns how many live sessions were deleted.
 */
const REVOKE = `
local userKey = ARGV[1] .. 'user:' .. ARGV[2]
local ids = ARGV[3] ~= '' and { ARGV[3] } or redis.call('ZRANGE', userKey, 0, -1)
local deleted = 0
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'session:' .. id
  if id ~= ARGV[4] and redis.call('HGET', key, 'userId') == ARGV[2] then
    if tonumber(redis.call('HGET', key, 'expiresAt')) > tonumber(ARGV[5]) then deleted = deleted + 1 end
    redis.call('DEL', key, ARGV[1] .. 'token:' .. redis.call('HGET', key, 'tokenDigest'))
  end
  if id ~= ARGV[4] then redis.call('ZREM', userKey, id) end
end
return deleted`;

type Fields = Record<string, string>;

const toFields = (session: Session): Fields => ({
  id: session.id,
  userId: session.userId,
  tokenDigest: session.tokenDigest,
  createdAt: String(session.createdAt.getTime()),
  lastUsedAt: String(session.lastUsedAt.getTime()),
  expiresAt: String(session.expiresAt.getTime()),
  absoluteExpiresAt: String(session.absoluteExpiresAt.getTime()),
  ip: session.ip ?? '',
  userAgent: session.userAgent ?? '',
});

const fromFields = (fields: Fields): Session => ({
  id: fields.id,
  userId: fields.userId,
  tokenDigest: fields.tokenDigest,
  createdAt: new Date(Number(fields.createdAt)),
  lastUsedAt: new Date(Number(fields.lastUsedAt)),
  expiresAt: new Date(Number(fields.expiresAt)),
  absoluteExpiresAt: new Date(Number(fields.absoluteExpiresAt)),
  ip: fields.ip || null,
  userAgent: fields.userAgent || null,
});

/**
 * Sessions in Redis, shared by every instance. Keys expire by themselves at the session's expiry;
 * a sorted set per user (by creation time) serves listing and revoke-all. Every change that must not
 * interleave with another runs as one Lua script.
 */
export class RedisSessionStore extends SessionStore implements OnApplicationShutdown {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'latchkey:',
  ) {
    super();
  }

  /** After the HTTP server has drained (not at module destroy, which comes before), so in-flight requests finish. */
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async create(session: Session): Promise<void> {
    const expiresAt = session.expiresAt.getTime();
    const userKey = this.key('user', session.userId);
    const results = await this.redis
      .multi()
      .hset(this.key('session', session.id), toFields(session))
      .pexpireat(this.key('session', session.id), expiresAt)
      .set(this.key('token', session.tokenDigest), session.id, 'PXAT', expiresAt)
      .zadd(userKey, session.createdAt.getTime(), session.id)
      // The index lives as long as the user's longest-lived session could.
      .call('PEXPIREAT', userKey, session.absoluteExpiresAt.getTime(), 'NX')
      .call('PEXPIREAT', userKey, session.absoluteExpiresAt.getTime(), 'GT')
      .exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (!results || failure) throw failure ?? new Error('Redis transaction was discarded');
  }

  async findByTokenDigest(tokenDigest: string, now: Date): Promise<Session | null> {
    const id = await this.redis.get(this.key('token', tokenDigest));
    return id === null ? null : this.live(id, now);
  }

  async touch(id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean> {
    const touched = await this.redis.eval(
      TOUCH,
      0,
      this.prefix,
      id,
      lastUsedAt.getTime(),
      expiresAt.getTime(),
    );
    return touched === 1;
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    return (await this.redis.eval(REVOKE, 0, this.prefix, userId, id, '', now.getTime())) === 1;
  }

  async revokeAllForUser(userId: string, exceptId?: string): Promise<void> {
    // Every session goes, live or not, so "now" only affects the count, which is not needed here.
    await this.redis.eval(REVOKE, 0, this.prefix, userId, '', exceptId ?? '', 0);
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    const userKey = this.key('user', userId);
    const ids = await this.redis.zrevrange(userKey, 0, -1);
    const sessions = await Promise.all(ids.map((id) => this.live(id, now)));
    const gone = ids.filter((_, index) => sessions[index] === null);
    if (gone.length > 0) await this.redis.zrem(userKey, ...gone);
    return sessions.filter((session): session is Session => session !== null);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  private async live(id: string, now: Date): Promise<Session | null> {
    const fields = await this.redis.hgetall(this.key('session', id));
    if (!fields.id) return null;
    const session = fromFields(fields);
    return session.expiresAt > now ? session : null;
  }

  private key(kind: 'session' | 'token' | 'user', id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }
}
