-- rw-read-extend: prolongs a read hold: adds ms to its remaining time, or sets the remaining time
-- to ms. A read hold already in is extended even while a writer waits (readers in finish; only new
-- ones wait).
--
-- KEYS[1] writerKey: the writer hash (`owner`, `fence`).
-- KEYS[2] readersKey: the readers, scored by the server ms at which each read hold expires.
-- KEYS[3] marksKey: the waiting-writer marks, scored by the server ms at which each lapses.
-- KEYS[4] fenceKey: the fencing counter.
-- ARGV[1] token: owner token.
-- ARGV[2] msArg: the time to add, or the new remaining time, in ms.
-- ARGV[3] replace: `1` to replace the remaining time, `0` to add.
--
-- Returns the new remaining time in ms; -1 when this token holds no read hold and nobody writes;
-- -2 when it holds none and a writer holds the lock.
local writerKey = KEYS[1]
local readersKey = KEYS[2]
local marksKey = KEYS[3]
local fenceKey = KEYS[4]
local token = ARGV[1]
local msArg = ARGV[2]
local replace = ARGV[3]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/keep-alive.lua

local now = serverNowMs()
dropExpired(readersKey, now)
local deadline = redis.call('ZSCORE', readersKey, token)
if not deadline then
  if redis.call('EXISTS', writerKey) == 1 then
    return -2
  end
  return -1
end
local ms = tonumber(msArg)
if replace == '0' then
  ms = ms + tonumber(deadline) - now
end
redis.call('ZADD', readersKey, now + ms, token)
keepAlive(readersKey, ms)
return ms
