-- prolong(lockKey, ms, replace): makes the held `lockKey` expire `ms` from now when `replace` is
-- '1', or `ms` after its current expiry when it is '0'. Returns the new remaining time in ms.
local function prolong(lockKey, ms, replace)
  local ttl = tonumber(ms)
  if replace == '0' then
    local remaining = redis.call('PTTL', lockKey)
    if remaining > 0 then
      ttl = ttl + remaining
    end
  end
  redis.call('PEXPIRE', lockKey, ttl)
  return ttl
end
