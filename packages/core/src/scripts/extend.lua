-- extend: extends a held mutex: adds ms to its remaining time, or replaces the remaining time with
-- ms. Background renewal is a replace with the lock's ttl.
--
-- Redlock also re-takes a server that lost the lock (it restarted empty, or was flushed): when
-- retake is `1` and the key is absent, it is set again for this token with retakeCount as its
-- count and ms as its expiry, exactly as a first acquire on that server would; never over another
-- owner. Without retake (one server, a Cluster) a missing lock stays missing: the holder is told
-- it lost it.
--
-- KEYS[1] lockKey: the lock hash.
-- ARGV[1] token: owner token.
-- ARGV[2] ms: the time to add, or the new remaining time, in ms.
-- ARGV[3] replace: `1` to replace the remaining time, `0` to add.
-- ARGV[4] retake (optional): `1` to re-take the lock if it is absent.
-- ARGV[5] retakeCount (optional): the hold count to re-take it with.
--
-- Returns the new remaining time in ms; -1 when the lock no longer exists; -2 when another token
-- holds it; -3 when it did not exist and was re-taken (retake `1`) for ms.
local lockKey = KEYS[1]
local token = ARGV[1]
local ms = ARGV[2]
local replace = ARGV[3]
local retake = ARGV[4]
local retakeCount = ARGV[5]
--!include lib/prolong.lua

local owner = redis.call('HGET', lockKey, 'owner')
if not owner then
  if retake ~= '1' then
    return -1
  end
  redis.call('HSET', lockKey, 'owner', token, 'count', retakeCount, 'fence', 0)
  redis.call('PEXPIRE', lockKey, ms)
  return -3
end
if owner ~= token then
  return -2
end
return prolong(lockKey, ms, replace)
