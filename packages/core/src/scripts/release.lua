-- release: leaves the mutex once: deletes it when the holder's count reaches zero, else lowers the
-- count. Never touches a lock held by another token. A full release publishes on the lock's
-- channel, so that waiters wake at once instead of sleeping until their next retry.
--
-- KEYS[1] lockKey: the lock hash.
-- ARGV[1] token: owner token.
-- ARGV[2] countAfter: the hold count after this call (0 releases fully).
-- ARGV[3] channel: the channel to publish the release on; empty to publish nothing (Redlock's
--   clean-up of a failed attempt, which frees no lock anyone could take and must not wake its own
--   waiter).
--
-- Returns the remaining hold count (0 when the key was deleted), or -1 when this token does not
-- hold the lock (expired, or taken by someone else).
local lockKey = KEYS[1]
local token = ARGV[1]
local countAfter = ARGV[2]
local channel = ARGV[3]

if redis.call('HGET', lockKey, 'owner') ~= token then
  return -1
end
local count = tonumber(countAfter)
if count <= 0 then
  redis.call('DEL', lockKey)
  if channel ~= '' then
    redis.call('PUBLISH', channel, '')
  end
  return 0
end
redis.call('HSET', lockKey, 'count', count)
return count
