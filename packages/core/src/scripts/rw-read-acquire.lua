-- rw-read-acquire: takes a read hold: granted unless a writer holds the lock or a writer is
-- waiting (a live mark). A resent call whose first reply was lost finds its token already in and
-- is granted again.
--
-- KEYS[1] writerKey: the writer hash (`owner`, `fence`).
-- KEYS[2] readersKey: the readers, scored by the server ms at which each read hold expires.
-- KEYS[3] marksKey: the waiting-writer marks, scored by the server ms at which each lapses.
-- KEYS[4] fenceKey: the fencing counter.
-- ARGV[1] token: owner token.
-- ARGV[2] ttlMs: ttl in ms.
-- ARGV[3] mintFence: `1` to mint a fencing token.
--
-- Returns `{1, 1, fencingToken}` when held (fencingToken 0 when not minted), or `{0, pttl}` when
-- not: the PTTL of the writer's hash when a writer holds it, else of the waiting-writer marks.
local writerKey = KEYS[1]
local readersKey = KEYS[2]
local marksKey = KEYS[3]
local fenceKey = KEYS[4]
local token = ARGV[1]
local ttlMs = ARGV[2]
local mintFence = ARGV[3]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/keep-alive.lua

local now = serverNowMs()
dropExpired(readersKey, now)
dropExpired(marksKey, now)
if redis.call('EXISTS', writerKey) == 1 then
  return {0, redis.call('PTTL', writerKey)}
end
if redis.call('EXISTS', marksKey) == 1 and not redis.call('ZSCORE', readersKey, token) then
  return {0, redis.call('PTTL', marksKey)}
end
local ttl = tonumber(ttlMs)
redis.call('ZADD', readersKey, now + ttl, token)
keepAlive(readersKey, ttl)
local fence = 0
if mintFence == '1' then
  fence = redis.call('INCR', fenceKey)
end
return {1, 1, fence}
