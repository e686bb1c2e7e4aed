-- joinQueue(queueKey, token, now): puts `token` at the tail of the waiters `queueKey`, scored by
-- arrival (server ms), after the last waiter even within one ms (written as a string: Lua would
-- print the fraction away); a token already queued keeps its place.
local function joinQueue(queueKey, token, now)
  if redis.call('ZSCORE', queueKey, token) then
    return
  end
  local arrival = now
  local tail = redis.call('ZRANGE', queueKey, -1, -1, 'WITHSCORES')
  if tail[2] and tonumber(tail[2]) >= now then
    arrival = tonumber(tail[2]) + 0.001
  end
  redis.call('ZADD', queueKey, string.format('%.3f', arrival), token)
end
