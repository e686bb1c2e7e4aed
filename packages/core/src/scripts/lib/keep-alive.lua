-- keepAlive(key, ms): makes `key` live at least `ms` more, so that it never outlasts its members by
-- much, nor dies before them.
local function keepAlive(key, ms)
  if redis.call('PTTL', key) < ms then
    redis.call('PEXPIRE', key, ms)
  end
end
