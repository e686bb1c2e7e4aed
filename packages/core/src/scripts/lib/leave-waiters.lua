-- leaveWaiters(waitersKey, deadlinesKey, token): removes `token` from a queue of waiters and from
-- its deadlines. Returns 1 when it was waiting, else 0.
local function leaveWaiters(waitersKey, deadlinesKey, token)
  redis.call('ZREM', deadlinesKey, token)
  return redis.call('ZREM', waitersKey, token)
end
