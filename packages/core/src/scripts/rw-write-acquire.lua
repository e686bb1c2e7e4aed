-- rw-write-acquire: takes the write hold when nobody holds the lock (no writer, no live reader);
-- other waiting writers' marks do not stop it (writers compete among themselves like mutex
-- waiters). Otherwise, when markTtlMs allows, sets or refreshes this writer's mark, which holds
-- new readers back; with markTtlMs `0` (a last attempt, or a tryAcquire) it removes this writer's
-- mark instead.
--
-- KEYS[1] writerKey: the writer hash (`owner`, `fence`).
-- KEYS[2] readersKey: the readers, scored by the server ms at which each read hold expires.
-- KEYS[3] marksKey: the waiting-writer marks, scored by the server ms at which each lapses.
-- KEYS[4] fenceKey: the fencing counter.
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] mintFence: `1` to mint a fencing token.
-- ARGV[4] markTtlMs: how long this writer's mark lasts without a new attempt, in ms; `0` to not
--   wait.
-- ARGV[5] channel: the release channel (published on when the last mark goes and the lock is
--   free).
--
-- Returns `{1, 1, fencingToken}` when held (a resent call gets the token already minted), or
-- `{0, pttl, marked}` when not: the PTTL of the writer's hash when a writer holds it, else of the
-- readers; marked is 1 when this writer's mark is in place.
local writerKey = KEYS[1]
local readersKey = KEYS[2]
local marksKey = KEYS[3]
local fenceKey = KEYS[4]
local token = ARGV[1]
local ttl = ARGV[2]
local mintFence = ARGV[3]
local markTtlMs = ARGV[4]
local channel = ARGV[5]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/keep-alive.lua
--!include lib/unmark-writer.lua

local now = serverNowMs()
dropExpired(readersKey, now)
dropExpired(marksKey, now)
local held = redis.call('HMGET', writerKey, 'owner', 'fence')
if held[1] == token then
  return {1, 1, tonumber(held[2])}
end
if not held[1] and redis.call('EXISTS', readersKey) == 0 then
  redis.call('ZREM', marksKey, token)
  local fence = 0
  if mintFence == '1' then
    fence = redis.call('INCR', fenceKey)
  end
  redis.call('HSET', writerKey, 'owner', token, 'fence', fence)
  redis.call('PEXPIRE', writerKey, ttl)
  return {1, 1, fence}
end
local remaining = redis.call('PTTL', held[1] and writerKey or readersKey)
local markTtl = tonumber(markTtlMs)
if markTtl <= 0 then
  unmarkWriter(writerKey, marksKey, token, channel)
  return {0, remaining, 0}
end
redis.call('ZADD', marksKey, now + markTtl, token)
keepAlive(marksKey, markTtl)
return {0, remaining, 1}
