-- multi-extend: extends a held lock set: adds ms to every member's remaining time, or replaces
-- each one's remaining time with ms. All or nothing: when another token holds any member, or a
-- member is missing (and not re-taken), no member is extended, and the members this token still
-- holds are deleted: what is left of a broken hold protects nothing, and the handle is told it
-- lost the set (waiters find the freed members at their next attempt).
--
-- Redlock re-takes what a server lost (it restarted empty, or was flushed), as `extend` does: when
-- retake is `1`, every missing member is set again for this token with retakeCount as its count
-- and ms as its expiry, the others extended; never over another owner.
--
-- KEYS[1..] lockKeys: the lock hashes of the set's members.
-- ARGV[1] token: owner token.
-- ARGV[2] ms: the time to add, or the new remaining time, in ms.
-- ARGV[3] replace: `1` to replace the remaining time, `0` to add.
-- ARGV[4] retake (optional): `1` to re-take missing members.
-- ARGV[5] retakeCount (optional): the hold count to re-take them with.
--
-- Returns the new remaining time in ms (the least among the members); -1 when a member no longer
-- exists (and no member is held by another token); -2 when another token holds a member; -3 when
-- members were missing and were re-taken (retake `1`) for ms.
local lockKeys = {unpack(KEYS, 1)}
local token = ARGV[1]
local ms = ARGV[2]
local replace = ARGV[3]
local retake = ARGV[4]
local retakeCount = ARGV[5]
--!include lib/prolong.lua

local missing = false
local foreign = false
for _, lockKey in ipairs(lockKeys) do
  local owner = redis.call('HGET', lockKey, 'owner')
  if not owner then
    missing = true
  elseif owner ~= token then
    foreign = true
  end
end
if foreign or (missing and retake ~= '1') then
  for _, lockKey in ipairs(lockKeys) do
    if redis.call('HGET', lockKey, 'owner') == token then
      redis.call('DEL', lockKey)
    end
  end
  if foreign then
    return -2
  end
  return -1
end
local least = nil
for _, lockKey in ipairs(lockKeys) do
  if not redis.call('HGET', lockKey, 'owner') then
    redis.call('HSET', lockKey, 'owner', token, 'count', retakeCount, 'fence', 0)
  end
  local ttl = prolong(lockKey, ms, replace)
  if not least or ttl < least then
    least = ttl
  end
end
if missing then
  return -3
end
return least
