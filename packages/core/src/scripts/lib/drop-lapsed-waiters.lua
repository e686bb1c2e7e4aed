-- dropLapsedWaiters(queueKey, deadlinesKey, now, termsKey): drops every waiter whose place has
-- lapsed by `now` from both the queue (scored by arrival) and its deadlines (scored by server ms),
-- and from the waiters' hand-off terms when `termsKey` is given.
local function dropLapsedWaiters(queueKey, deadlinesKey, now, termsKey)
  local lapsed = redis.call('ZRANGEBYSCORE', deadlinesKey, '-inf', now)
  for _, waiter in ipairs(lapsed) do
    redis.call('ZREM', queueKey, waiter)
    redis.call('ZREM', deadlinesKey, waiter)
    if termsKey then
      redis.call('HDEL', termsKey, waiter)
    end
  end
end
