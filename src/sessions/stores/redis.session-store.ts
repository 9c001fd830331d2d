import { ProblemException } from '../../common/problem.exception.js';
import type { RedisClient } from '../../redis/redis-client.js';
import type { Session } from '../session.js';
import { type KeptSession, SessionStore } from '../session-store.js';

/*
 * Keys (P = the prefix). Everything of one user shares a hash tag, so it lives in one cluster slot
 * and one script can change it atomically:
 *   P{userId}:session:<id>  hash of the session, expiring with it
 *   P{userId}:sessions      sorted set of the user's session ids, scored by lastUsedAt (for LRU)
 *   P token:<digest>        "userId sessionId": the lookup by token, found by digest alone, so it
 *                           lives in some other slot and is written by its own command.
 * A pointer whose session is gone is harmless (the lookup finds no hash) and deleted when seen.
 *
 * Scripts touch only the keys passed in KEYS, as Redis Cluster requires. Those that must touch all
 * of a user's sessions get the keys of the index members the caller has just read; if a member
 * was added meanwhile they return nil, and the caller reads the index again.
 *
 * Needs Redis 7.0: SET … PXAT (6.2) and PEXPIREAT … GT (7.0).
 */

/** Lua: false when the index holds a member that is not in `ids` (the caller's read is stale). */
const INDEX_MATCHES = `
local function indexMatches(index, ids)
  local listed = {}
  for _, id in ipairs(ids) do listed[id] = true end
  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if not listed[id] then return false end
  end
  return true
end`;

/**
 * KEYS: the index, the new session's hash, the hashes of the n sessions in ARGV.
 * ARGV: maxPerUser, n, n session ids read from the index, then the new session's field/value pairs.
 * Drops the user's expired sessions and those of an older credential version, evicts the least
 * recently used beyond the cap, adds the new one. Returns { 1, token digests of the sessions
 * gone }, or { 0, {} } without changing anything when the user has a session of a newer
 * credential version (so this one's credentials were read before they changed).
 */
const CREATE = `${INDEX_MATCHES}
local index, maxPerUser, n = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if not indexMatches(index, { unpack(ARGV, 3, n + 2) }) then return false end
local new = {}
for i = n + 3, #ARGV, 2 do new[ARGV[i]] = ARGV[i + 1] end
local now, version, latest = tonumber(new.createdAt), tonumber(new.credentialVersion), tonumber(new.expiresAt)
local existing = {}
for i = 1, n do
  local s = redis.call('HMGET', KEYS[i + 2], 'expiresAt', 'credentialVersion', 'lastUsedAt', 'createdAt', 'tokenDigest')
  -- Refused before any change: a stale login must not evict the sessions of current ones.
  if s[1] and tonumber(s[2]) > version then return { 0, {} } end
  existing[i] = s
end
local gone, others = {}, {}
local function drop(key, id, digest)
  redis.call('DEL', key)
  redis.call('ZREM', index, id)
  if digest then table.insert(gone, digest) end
end
for i, s in ipairs(existing) do
  local key, id = KEYS[i + 2], ARGV[i + 2]
  if not s[1] or tonumber(s[1]) <= now or tonumber(s[2]) < version then
    drop(key, id, s[5])
  else
    table.insert(others, { key = key, id = id, expiresAt = tonumber(s[1]),
      lastUsedAt = tonumber(s[3]), createdAt = tonumber(s[4]), digest = s[5] })
  end
end
-- Least recently used first; creation time, then id, break ties.
table.sort(others, function(a, b)
  if a.lastUsedAt ~= b.lastUsedAt then return a.lastUsedAt < b.lastUsedAt end
  if a.createdAt ~= b.createdAt then return a.createdAt < b.createdAt end
  return a.id < b.id
end)
local evict = #others - (maxPerUser - 1)
for i, s in ipairs(others) do
  if i <= evict then drop(s.key, s.id, s.digest) else latest = math.max(latest, s.expiresAt) end
end
redis.call('HSET', KEYS[2], unpack(ARGV, n + 3))
redis.call('PEXPIREAT', KEYS[2], new.expiresAt)
redis.call('ZADD', index, new.lastUsedAt, new.id)
-- The index lives exactly as long as its longest-lived session (touch moves it on).
redis.call('PEXPIREAT', index, string.format('%d', latest))
return { 1, gone }`;

/**
 * KEYS: the session's hash, the index. ARGV: id, lastUsedAt, expiresAt.
 * Moves only a session that exists and has not expired, so a revoked one cannot come back.
 * Returns its token digest, or nil.
 */
const TOUCH = `
local expiresAt = redis.call('HGET', KEYS[1], 'expiresAt')
if not expiresAt or tonumber(expiresAt) <= tonumber(ARGV[2]) then return false end
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[2], 'expiresAt', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[2], ARGV[3], 'GT')
return redis.call('HGET', KEYS[1], 'tokenDigest')`;

/**
 * KEYS: the session's hash, the index. ARGV: id, now.
 * Returns nil when there is no such session, else { 1 if it was live, its token digest }.
 */
const REVOKE = `
redis.call('ZREM', KEYS[2], ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'expiresAt', 'tokenDigest')
if not s[1] then return false end
redis.call('DEL', KEYS[1])
return { tonumber(s[1]) > tonumber(ARGV[2]) and 1 or 0, s[2] }`;

/**
 * KEYS: the index, the hashes of the sessions in ARGV. ARGV: id to keep (or ''), its new
 * credential version, the session ids read from the index.
 * Deletes every session but the kept one, which moves to the new version. Returns the token
 * digests of the sessions deleted.
 */
const REVOKE_ALL = `${INDEX_MATCHES}
if not indexMatches(KEYS[1], { unpack(ARGV, 3) }) then return false end
local gone = {}
for i = 3, #ARGV do
  local key, id = KEYS[i - 1], ARGV[i]
  if id == ARGV[1] then
    if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'credentialVersion', ARGV[2]) end
  else
    local digest = redis.call('HGET', key, 'tokenDigest')
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    if digest then table.insert(gone, digest) end
  end
end
return gone`;

type Arg = string | number;

/** The scripts as defineCommand adds them to the client (sent by EVALSHA). */
interface Scripts {
  latchkeySessionCreate(
    numberOfKeys: number,
    ...keysAndArgs: Arg[]
  ): Promise<[0 | 1, string[]] | null>;
  latchkeySessionTouch(...keysAndArgs: Arg[]): Promise<string | null>;
  latchkeySessionRevoke(...keysAndArgs: Arg[]): Promise<[number, string] | null>;
  latchkeySessionRevokeAll(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<string[] | null>;
}

/**
 * Tries of a script over all of a user's sessions. A try fails only because another write for
 * that user succeeded since the index was read, so every failure is someone else's progress; the
 * bound only stops a flood of one user's logins (then the request answers 503, to be retried).
 */
const MAX_ATTEMPTS = 100;

type Fields = Record<string, string>;

const toFields = (session: Session): Fields => ({
  id: session.id,
  userId: session.userId,
  tokenDigest: session.tokenDigest,
  credentialVersion: String(session.credentialVersion),
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
  credentialVersion: Number(fields.credentialVersion),
  createdAt: new Date(Number(fields.createdAt)),
  lastUsedAt: new Date(Number(fields.lastUsedAt)),
  expiresAt: new Date(Number(fields.expiresAt)),
  absoluteExpiresAt: new Date(Number(fields.absoluteExpiresAt)),
  ip: fields.ip || null,
  userAgent: fields.userAgent || null,
});

/**
 * Sessions in Redis (one server or a cluster), shared by every instance. Keys expire by themselves
 * with their session; each change to a user's sessions is one script in that user's slot. It
 * cannot see the user's credential version, only its sessions': `create` refuses a session older
 * than one the user has, and otherwise succeeds; callers re-check.
 */
export class RedisSessionStore extends SessionStore {
  private readonly scripts: Scripts;

  /** `prefix` must not contain `{`, which would move the hash tag. */
  constructor(
    private readonly redis: RedisClient,
    private readonly options: { prefix: string; maxPerUser: number },
  ) {
    super();
    redis.defineCommand('latchkeySessionCreate', { lua: CREATE });
    redis.defineCommand('latchkeySessionTouch', { lua: TOUCH, numberOfKeys: 2 });
    redis.defineCommand('latchkeySessionRevoke', { lua: REVOKE, numberOfKeys: 2 });
    redis.defineCommand('latchkeySessionRevokeAll', { lua: REVOKE_ALL });
    this.scripts = redis as unknown as Scripts;
  }

  async create(session: Session): Promise<boolean> {
    const { userId } = session;
    const [stored, gone] = await this.withIndex(userId, (index, ids) =>
      this.scripts.latchkeySessionCreate(
        ids.length + 2,
        index,
        this.sessionKey(userId, session.id),
        ...ids.map((id) => this.sessionKey(userId, id)),
        this.options.maxPerUser,
        ids.length,
        ...ids,
        ...Object.entries(toFields(session)).flat(),
      ),
    );
    if (stored === 0) return false;
    await Promise.all([
      this.redis.set(
        this.tokenKey(session.tokenDigest),
        `${userId} ${session.id}`,
        'PXAT',
        session.expiresAt.getTime(),
      ),
      this.deletePointers(gone),
    ]);
    return true;
  }

  async findByTokenDigest(tokenDigest: string, now: Date): Promise<Session | null> {
    const pointer = await this.redis.get(this.tokenKey(tokenDigest));
    if (pointer === null) return null;
    const [userId, id] = pointer.split(' ');
    const fields = await this.redis.hgetall(this.sessionKey(userId, id));
    if (!fields.id) {
      await this.redis.del(this.tokenKey(tokenDigest));
      return null;
    }
    const session = fromFields(fields);
    return session.expiresAt > now ? session : null;
  }

  async touch(userId: string, id: string, lastUsedAt: Date, expiresAt: Date): Promise<boolean> {
    const digest = await this.scripts.latchkeySessionTouch(
      this.sessionKey(userId, id),
      this.indexKey(userId),
      id,
      lastUsedAt.getTime(),
      expiresAt.getTime(),
    );
    if (digest === null) return false;
    // GT: a pointer deleted by a revoke meanwhile stays deleted.
    await this.redis.pexpireat(this.tokenKey(digest), expiresAt.getTime(), 'GT');
    return true;
  }

  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    const revoked = await this.scripts.latchkeySessionRevoke(
      this.sessionKey(userId, id),
      this.indexKey(userId),
      id,
      now.getTime(),
    );
    if (revoked === null) return false;
    await this.deletePointers([revoked[1]]);
    return revoked[0] === 1;
  }

  async revokeAllForUser(userId: string, keep?: KeptSession): Promise<void> {
    const gone = await this.withIndex(userId, (index, ids) =>
      this.scripts.latchkeySessionRevokeAll(
        ids.length + 1,
        index,
        ...ids.map((id) => this.sessionKey(userId, id)),
        keep?.id ?? '',
        keep?.credentialVersion ?? 0,
        ...ids,
      ),
    );
    await this.deletePointers(gone);
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    const ids = await this.redis.zrange(this.indexKey(userId), 0, -1);
    const all = await Promise.all(ids.map((id) => this.redis.hgetall(this.sessionKey(userId, id))));
    return all
      .filter((fields) => fields.id)
      .map(fromFields)
      .filter((session) => session.expiresAt > now)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Runs `script` with the index's current members; again if it reports the read stale (nil). */
  private async withIndex<T>(
    userId: string,
    script: (index: string, ids: string[]) => Promise<T | null>,
  ): Promise<T> {
    const index = this.indexKey(userId);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const result = await script(index, await this.redis.zrange(index, 0, -1));
      if (result !== null) return result;
    }
    throw new ProblemException(
      503,
      'service_unavailable',
      'Too many sign-ins of this account at once; try again in a moment.',
      { headers: { 'Retry-After': '1' } },
    );
  }

  /** One command per pointer: each may live in another cluster slot. */
  private async deletePointers(digests: string[]): Promise<void> {
    await Promise.all(digests.map((digest) => this.redis.del(this.tokenKey(digest))));
  }

  private sessionKey(userId: string, id: string): string {
    return `${this.options.prefix}{${userId}}:session:${id}`;
  }

  private indexKey(userId: string): string {
    return `${this.options.prefix}{${userId}}:sessions`;
  }

  private tokenKey(digest: string): string {
    return `${this.options.prefix}token:${digest}`;
  }
}
