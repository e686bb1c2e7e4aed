-- multi-release: leaves a lock set once: deletes every member when the holder's count reaches
-- zero, else lowers every member's count. Never touches a member held by another token. A set
-- that is no longer whole (a member expired or was taken) is given back entirely, whatever the
-- count asked for: what is left of a broken hold protects nothing. Each deleted member's release
-- is published on its own channel, so that a waiter on any member wakes at once.
--
-- KEYS[1..] lockKeys: the lock hashes of the set's members.
-- ARGV[1] token: owner token.
-- ARGV[2] countAfter: the hold count after this call (0 releases fully).
-- ARGV[3..] channels: the release channel of each member, in KEYS order; none, or empty ones, to
--   publish nothing (Redlock's clean-up of a failed attempt).
--
-- Returns the remaining hold count (0 when the members were deleted), or -1 when this token did
-- not hold every member (those it still held are deleted).
local lockKeys = {unpack(KEYS, 1)}
local token = ARGV[1]
local countAfter = ARGV[2]
local channels = {unpack(ARGV, 3)}

local whole = true
for _, lockKey in ipairs(lockKeys) do
  if redis.call('HGET', lockKey, 'owner') ~= token then
    whole = false
  end
end
local count = tonumber(countAfter)
if whole and count > 0 then
  for _, lockKey in ipairs(lockKeys) do
    redis.call('HSET', lockKey, 'count', count)
  end
  return count
end
for i, lockKey in ipairs(lockKeys) do
  if redis.call('HGET', lockKey, 'owner') == token then
    redis.call('DEL', lockKey)
    local channel = channels[i]
    if channel and channel ~= '' then
      redis.call('PUBLISH', channel, '')
    end
  end
end
if whole then
  return 0
end
return -1
