-- rw-read-release: ends a read hold. When it was the last one, publishes on the channel so that a
-- waiting writer tries again at once.
--
-- KEYS[1] writerKey: the writer hash (`owner`, `fence`).
-- KEYS[2] readersKey: the readers, scored by the server ms at which each read hold expires.
-- KEYS[3] marksKey: the waiting-writer marks, scored by the server ms at which each lapses.
-- KEYS[4] fenceKey: the fencing counter.
-- ARGV[1] token: owner token.
-- ARGV[2] channel: the release channel.
--
-- Returns 0 when released, or -1 when this token held no read hold (expired, or removed).
local writerKey = KEYS[1]
local readersKey = KEYS[2]
local marksKey = KEYS[3]
local fenceKey = KEYS[4]
local token = ARGV[1]
local channel = ARGV[2]
--!include lib/server-now.lua
--!include lib/drop-expired.lua

local now = serverNowMs()
dropExpired(readersKey, now)
if redis.call('ZREM', readersKey, token) == 0 then
  return -1
end
if redis.call('EXISTS', readersKey) == 0 then
  redis.call('PUBLISH', channel, '')
end
return 0
