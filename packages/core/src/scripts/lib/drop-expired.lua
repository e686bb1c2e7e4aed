-- dropExpired(key, now): removes from the sorted set `key` every member whose score, a server time
-- in ms at which it expires, is not after `now`.
local function dropExpired(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end
