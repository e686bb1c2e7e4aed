-- expireAtLatest(key): sets the sorted set `key`'s expiry to its highest score (a server time in
-- ms), so that it never outlives its members.
local function expireAtLatest(key)
  local latest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
  if latest then
    redis.call('PEXPIREAT', key, latest)
  end
end
