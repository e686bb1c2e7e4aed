-- dropLapsedWaiters(queueKey, deadlinesKey, now): drops every fair-queue waiter whose place has
-- lapsed by `now` from both the queue (scored by arrival) and its deadlines (scored by server ms).
local function dropLapsedWaiters(queueKey, deadlinesKey, now)
  local lapsed = redis.call('ZRANGEBYSCORE', deadlinesKey, '-inf', now)
  for _, waiter in ipairs(lapsed) do
    redis.call('ZREM', queueKey, waiter)
    redis.call('ZREM', deadlinesKey, waiter)
  end
end
