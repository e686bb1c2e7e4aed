/**
 * The read-write lock: many readers or one writer. Its keys share the `{name}` hash tag (one
 * Redis Cluster slot) and carry a `:rw` suffix, so they never meet a mutex of the same name:
 * - `…:rw`: the writer's hash (`owner`, `fence`); its PTTL is the write hold's remaining time;
 * - `…:rw:readers`: a sorted set of reader tokens, each scored by the server time (ms) at which
 *   its read hold expires, so every read hold expires on its own;
 * - `…:rw:writers-waiting`: the writer-waiting marks: a sorted set of waiting writers' tokens,
 *   each scored by the server time (ms) at which its mark lapses unless the writer tries again;
 * - `…:rw:fence`: the fencing counter (never expires, so tokens never go backwards).
 * Releases publish on `…:rw:released` (last reader out, writer out, last waiting writer gone).
 *
 * Policy: writer preference. A writer that finds the lock busy sets (or refreshes) its mark, and
 * while any mark is live no new read hold is granted; the readers already in finish, then the
 * writer gets in. A mark lasts a little longer than the writer's longest sleep between attempts,
 * so it lapses by itself when a writer crashes, and a writer that gets the lock or gives up
 * removes its own at once. Every script drops expired readers and lapsed marks first, reading the
 * server's clock (`TIME`): no client clock decides who expired.
 *
 * Every rw script takes the same KEYS: KEYS[1] the writer hash, KEYS[2] the readers, KEYS[3] the
 * waiting writers, KEYS[4] the fencing counter. A writer's extend is the mutex's EXTEND on KEYS[1].
 */
import { defineScript, SERVER_NOW_MS } from './define.js';

/** Lua: drops expired read holds and lapsed writer-waiting marks (needs `now`). */
const DROP_EXPIRED = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
`;

/** Lua: makes the key KEYS[index] live at least `ms` more, so it never outlasts its members by much, nor dies before them. */
const keepAlive = (index: number, ms: string) => `
if redis.call('PTTL', KEYS[${index}]) < ${ms} then
  redis.call('PEXPIRE', KEYS[${index}], ${ms})
end
`;

/**
 * Lua: removes writer ARGV[1]'s mark; when that was the last mark and no writer holds the lock,
 * publishes on `channel`, so that readers held back by the mark try again at once.
 */
const UNMARK_WRITER = `
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[3]) == 0
    and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('PUBLISH', channel, '')
end
`;

/**
 * Takes a read hold: granted unless a writer holds the lock or a writer is waiting (a live
 * mark). A resent call whose first reply was lost finds its token already in and is granted again.
 *
 * ARGV[1]: owner token. ARGV[2]: ttl in ms. ARGV[3]: `1` to mint a fencing token.
 *
 * Returns `{1, 1, fencingToken}` when held (fencingToken 0 when not minted), or `{0, pttl}` when
 * not: the PTTL of the writer's hash when a writer holds it, else of the waiting-writer marks.
 */
export const RW_READ_ACQUIRE_SCRIPT = defineScript(
  'rw-read-acquire',
  `
${SERVER_NOW_MS}
${DROP_EXPIRED}
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1])}
end
if redis.call('EXISTS', KEYS[3]) == 1 and not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return {0, redis.call('PTTL', KEYS[3])}
end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
${keepAlive(2, 'ttl')}
local fence = 0
if ARGV[3] == '1' then
  fence = redis.call('INCR', KEYS[4])
end
return {1, 1, fence}
`,
  '5e48409e2f8e7d9b33519387a57dded8d5b36bca',
);

/**
 * Ends a read hold. When it was the last one, publishes on the channel so that a waiting writer
 * tries again at once.
 *
 * ARGV[1]: owner token. ARGV[2]: the release channel.
 *
 * Returns 0 when released, or -1 when this token held no read hold (expired, or removed).
 */
export const RW_READ_RELEASE_SCRIPT = defineScript(
  'rw-read-release',
  `
${SERVER_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return -1
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('PUBLISH', ARGV[2], '')
end
return 0
`,
  'a792dd3d9d2cf798810008fe753b6642895a7de9',
);

/**
 * Prolongs a read hold: adds ms to its remaining time, or sets the remaining time to ms. A read
 * hold already in is extended even while a writer waits (readers in finish; only new ones wait).
 *
 * ARGV[1]: owner token. ARGV[2]: ms. ARGV[3]: `1` to replace the remaining time, `0` to add.
 *
 * Returns the new remaining time in ms; -1 when this token holds no read hold and nobody writes;
 * -2 when it holds none and a writer holds the lock.
 */
export const RW_READ_EXTEND_SCRIPT = defineScript(
  'rw-read-extend',
  `
${SERVER_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not deadline then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return -2
  end
  return -1
end
local ms = tonumber(ARGV[2])
if ARGV[3] == '0' then
  ms = ms + tonumber(deadline) - now
end
redis.call('ZADD', KEYS[2], now + ms, ARGV[1])
${keepAlive(2, 'ms')}
return ms
`,
  '786507a5450c445bb983c44286db2d0533cc1403',
);

/**
 * Takes the write hold when nobody holds the lock (no writer, no live reader); other waiting
 * writers' marks do not stop it (writers compete among themselves like mutex waiters). Otherwise,
 * when ARGV[4] allows, sets or refreshes this writer's mark, which holds new readers back; with
 * ARGV[4] = 0 (a last attempt, or a tryAcquire) it removes this writer's mark instead.
 *
 * ARGV[1]: owner token. ARGV[2]: ttl in ms. ARGV[3]: `1` to mint a fencing token. ARGV[4]: how
 * long this writer's mark lasts without a new attempt, in ms; `0` to not wait. ARGV[5]: the
 * release channel (published on when the last mark goes and the lock is free).
 *
 * Returns `{1, 1, fencingToken}` when held (a resent call gets the token already minted), or
 * `{0, pttl, marked}` when not: the PTTL of the writer's hash when a writer holds it, else of the
 * readers; marked is 1 when this writer's mark is in place.
 */
export const RW_WRITE_ACQUIRE_SCRIPT = defineScript(
  'rw-write-acquire',
  `
${SERVER_NOW_MS}
${DROP_EXPIRED}
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence')
if held[1] == ARGV[1] then
  return {1, 1, tonumber(held[2])}
end
if not held[1] and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  local fence = 0
  if ARGV[3] == '1' then
    fence = redis.call('INCR', KEYS[4])
  end
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'fence', fence)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, 1, fence}
end
local remaining = redis.call('PTTL', held[1] and KEYS[1] or KEYS[2])
local markTtl = tonumber(ARGV[4])
if markTtl <= 0 then
  local channel = ARGV[5]
${UNMARK_WRITER}
  return {0, remaining, 0}
end
redis.call('ZADD', KEYS[3], now + markTtl, ARGV[1])
${keepAlive(3, 'markTtl')}
return {0, remaining, 1}
`,
  '5bb4108bbad438bcf5945d5bc0788ea3eedb65bd',
);

/**
 * Ends the write hold and publishes on the channel, so that readers and writers waiting try
 * again at once. Called by a writer that gave up without the lock, it removes that writer's mark
 * (and publishes when that was the last mark and the lock is free).
 *
 * ARGV[1]: owner token. ARGV[2]: the release channel.
 *
 * Returns 0 when the write hold was released, or -1 when this token did not hold it.
 */
export const RW_WRITE_RELEASE_SCRIPT = defineScript(
  'rw-write-release',
  `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '')
  return 0
end
${SERVER_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local channel = ARGV[2]
${UNMARK_WRITER}
return -1
`,
  'f0af0bcb1b752086b0d5e466938e8b3044850381',
);

/**
 * Reads a read-write lock's state in one step, for status checks and `ReadWriteLock.inspect`.
 * Read-only: expired readers and lapsed marks are left out, not removed.
 *
 * ARGV[1]: a token whose read hold to report ('' for none). ARGV[2]: `1` to list every reader
 * and waiting writer.
 *
 * Returns `{owner, pttl, fence, readerCount, tokenRemaining, lastFencingToken, readers,
 * writersWaiting, now}`: owner and fence are nil and pttl -2 when no writer holds it;
 * tokenRemaining is ARGV[1]'s read hold's remaining ms (0 if none); lastFencingToken is the
 * counter (nil if never minted); readers and writersWaiting are flat `token, deadline` lists
 * (empty unless ARGV[2] is `1`), deadlines in server ms, and now is the server's time in ms.
 */
export const RW_INSPECT_SCRIPT = defineScript(
  'rw-inspect',
  `
${SERVER_NOW_MS}
local writer = redis.call('HMGET', KEYS[1], 'owner', 'fence')
local after = '(' .. now
local tokenRemaining = 0
local deadline = ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > now then
  tokenRemaining = tonumber(deadline) - now
end
local readers, waiting = {}, {}
if ARGV[2] == '1' then
  readers = redis.call('ZRANGEBYSCORE', KEYS[2], after, '+inf', 'WITHSCORES')
  waiting = redis.call('ZRANGEBYSCORE', KEYS[3], after, '+inf', 'WITHSCORES')
end
return {writer[1], redis.call('PTTL', KEYS[1]), writer[2], redis.call('ZCOUNT', KEYS[2], after, '+inf'),
  tokenRemaining, redis.call('GET', KEYS[4]), readers, waiting, now}
`,
  'c41e352c5218dc9238fd24cb047da305792e7487',
);
