-- leaveWaiters(waitersKey, deadlinesKey, token, termsKey): removes `token` from a queue of waiters,
-- from its deadlines and, when `termsKey` is given, from the waiters' hand-off terms. Returns 1
-- when it was waiting, else 0.
local function leaveWaiters(waitersKey, deadlinesKey, token, termsKey)
  redis.call('ZREM', deadlinesKey, token)
  if termsKey then
    redis.call('HDEL', termsKey, token)
  end
  return redis.call('ZREM', waitersKey, token)
end
